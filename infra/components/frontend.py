"""The Next.js frontend on Vercel: the project, its seven public env vars wired from the backend, custom
domains, and the `/api/v1/*` rewrite to the backend as a managed project route (no hand-edited
vercel.json)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_vercel as vercel

from infra.config import FrontendSettings

ENV_TARGETS = ["production", "preview"]
API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class FrontendArgs:
    settings: FrontendSettings
    app_url: str
    backend_url: pulumi.Input[str]
    ws_url: pulumi.Input[str]


def public_env(settings: FrontendSettings, *, api_url, ws_url, app_url: str) -> dict[str, pulumi.Input[str]]:
    """The seed's seven NEXT_PUBLIC_* variables, in the order the seed lists them.

    ``api_url`` is the backend's bare origin (no path, no trailing slash). The seed's table says
    "backend URL + /api/v1", but the frontend appends ``/api/v1`` itself (``src/lib/api.ts``:
    ``${NEXT_PUBLIC_API_URL}/api/v1``) and hands the same value to socket.io-client
    (``src/contexts/SocketContext.tsx``), which would read a path as a namespace. ``NEXT_PUBLIC_WS_URL``
    stays because the seed lists it; this frontend does not read it."""
    features = settings.features
    return {
        "NEXT_PUBLIC_API_URL": api_url,
        "NEXT_PUBLIC_WS_URL": ws_url,
        "NEXT_PUBLIC_APP_URL": app_url,
        "NEXT_PUBLIC_APP_NAME": settings.app_name,
        "NEXT_PUBLIC_STORAGE_MODE": features.storage_mode,
        "NEXT_PUBLIC_ENABLE_PWA": "true" if features.pwa else "false",
        "NEXT_PUBLIC_ENABLE_LOCAL_RECORDINGS": "true" if features.local_recordings else "false",
    }


class Frontend(pulumi.ComponentResource):
    def __init__(self, name: str, args: FrontendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("chatvista:index:Frontend", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.project = vercel.Project(
            f"{name}-project",
            name=s.project_name,
            framework=s.framework,
            root_directory=s.root_directory,
            build_command=s.build_command,
            install_command=s.install_command,
            node_version=s.node_version,
            git_repository=vercel.ProjectGitRepositoryArgs(
                type="github", repo=s.repo, production_branch=s.production_branch
            ),
            team_id=s.team_id,
            # Preview URLs under a domain the team owns rather than vercel.app, where any account can
            # deploy: the API's CORS admits them by that suffix alone (docs/security.md). The
            # project's suffix takes precedence over the team's (Vercel's project settings).
            preview_deployment_suffix=s.preview_domain_suffix,
            opts=child,
        )
        self.project_id = self.project.id
        self.team_id = self.project.team_id
        self.env_vars = {
            key: vercel.ProjectEnvironmentVariable(
                f"{name}-env-{key.removeprefix('NEXT_PUBLIC_').lower().replace('_', '-')}",
                project_id=self.project.id,
                team_id=s.team_id,
                key=key,
                value=value,
                targets=ENV_TARGETS,
                sensitive=False,
                opts=child,
            )
            for key, value in public_env(s, api_url=args.backend_url, ws_url=args.ws_url, app_url=args.app_url).items()
        }
        self.domains = [
            vercel.ProjectDomain(
                f"{name}-domain-{domain.replace('.', '-')}",
                project_id=self.project.id,
                team_id=s.team_id,
                domain=domain,
                opts=child,
            )
            for domain in s.domains
        ]
        self.api_route = vercel.ProjectRoute(
            f"{name}-api-rewrite",
            project_id=self.project.id,
            team_id=s.team_id,
            name="api-to-backend",
            description="Rewrite /api/v1/* to the ChatVista API on App Platform",
            enabled=True,
            position=vercel.ProjectRoutePositionArgs(placement="start"),
            route=vercel.ProjectRouteRouteArgs(
                src=f"{API_PREFIX}/:path*",
                dest=pulumi.Output.concat(args.backend_url, API_PREFIX, "/:path*"),
            ),
            opts=child,
        )
        self.register_outputs({"projectId": self.project_id})
