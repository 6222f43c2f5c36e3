"""The request contract of the fake Vercel API. Vercel's OpenAPI document cannot be obtained here (see
reference/README.md), so each endpoint the fake serves is written out from the generated functions of
@vercel/sdk (``src/funcs/<name>.ts``: method, path, the query parameters the function sends) and checked the
way the DigitalOcean requests are: a request outside this table is a contract violation."""

from __future__ import annotations

import re

# Every Vercel call may be scoped to a team (``teamId``, or ``slug`` for the team's slug).
SCOPE = frozenset({"teamId", "slug"})

# (method, path pattern, query parameters besides the scope, the sdk function)
ENDPOINTS: tuple[tuple[str, str, frozenset[str], str], ...] = (
    ("GET", r"/v2/user", frozenset(), "userGetAuthUser"),
    ("GET", r"/v5/user/tokens/[^/]+", frozenset(), "authenticationGetAuthToken"),
    ("GET", r"/v2/teams/[^/]+", frozenset(), "teamsGetTeam"),
    ("GET", r"/v1/integrations/git-namespaces", frozenset({"host", "provider"}), "integrationsGitNamespaces"),
    (
        "GET",
        r"/v1/integrations/search-repo",
        frozenset({"query", "namespaceId", "provider", "installationId", "host"}),
        "integrationsSearchRepo",
    ),
    (
        "GET",
        r"/v9/projects",
        frozenset({"from", "gitForkProtection", "limit", "search", "repo", "until"}),
        "projectsGetProjects",
    ),
    # rollbackInfo: not in the sdk's function, but what `vercel rollback` sends to read lastRollbackTarget
    # (vercel/vercel packages/cli/src/util/rollback/status.ts).
    ("GET", r"/v9/projects/[^/]+", frozenset({"rollbackInfo"}), "projectsGetProject"),
    ("POST", r"/v1/projects/[^/]+/rollback/[^/]+", frozenset({"description"}), "projectsRequestRollback"),
    (
        "GET",
        r"/v9/projects/[^/]+/domains",
        frozenset(
            {
                "production",
                "target",
                "gitBranch",
                "redirects",
                "redirect",
                "verified",
                "limit",
                "since",
                "until",
                "order",
            }
        ),
        "projectsGetProjectDomains",
    ),
    ("GET", r"/v9/projects/[^/]+/domains/[^/]+", frozenset(), "projectsGetProjectDomain"),
    ("GET", r"/v10/projects/[^/]+/env", frozenset({"gitBranch", "decrypt", "source"}), "projectsFilterProjectEnvs"),
    (
        "GET",
        r"/v6/deployments",
        frozenset({"app", "from", "limit", "projectId", "target", "to", "users", "since", "until", "state"}),
        "deploymentsGetDeployments",
    ),
)


def request_problem(method: str, path: str, query: dict[str, list[str]]) -> str | None:
    """Why the request is not one @vercel/sdk would send, or None."""
    for verb, pattern, params, function in ENDPOINTS:
        if verb == method and re.fullmatch(pattern, path):
            unknown = sorted(set(query) - params - SCOPE)
            if unknown:
                return f"{function} takes no query parameter {', '.join(unknown)}"
            return None
    return f"no Vercel endpoint {method} {path} in the fake's contract (tests/fakes/vercel_contract.py)"
