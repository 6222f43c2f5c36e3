"""`pulumi up` ends with a live frontend: the Vercel project's production domain is declared (so a taken
``<projectName>.vercel.app`` stops the deploy before anything on DigitalOcean exists), a production
deployment of the git repository is created once the env vars and the route are in place, a changed
public value makes a new one, and ``frontendUrl`` is the production URL the provider reports."""

from __future__ import annotations

from infra.plan.declared import APP, VERCEL_ENV, VERCEL_ROUTE, DeclaredResource, DeclaredStack
from infra.plan.engine import StackMocks, declare

PROJECT_DOMAIN = "vercel:index/projectDomain:ProjectDomain"
DEPLOYMENT = "vercel:index/deployment:Deployment"
PROJECT = "vercel:index/project:Project"


def one(stack: DeclaredStack, type_token: str, name: str | None = None) -> DeclaredResource:
    found = [r for r in stack.of_type(type_token) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def depends_on(stack: DeclaredStack, resource: DeclaredResource) -> set[str]:
    """Every URN ``resource`` waits for, directly or through what those wait for. A parent is not followed:
    the engine does not hold a child back for its component's depends_on."""
    seen: set[str] = set()
    todo = [resource]
    while todo:
        current = todo.pop()
        for urn in current.dependencies:
            if urn not in seen:
                seen.add(urn)
                found = stack.by_urn(urn)
                if found is not None:
                    todo.append(found)
    return seen


def test_the_api_rewrite_states_its_source_syntax(prod_stack):
    # vercel/terraform-provider-vercel vercel/resource_project_route.go: src_syntax is one of equals,
    # path-to-regexp, regex; /api/v1/:path* is path-to-regexp.
    assert one(prod_stack, VERCEL_ROUTE).inputs["srcSyntax"] == "path-to-regexp"


def test_the_vercel_app_domain_is_declared_on_the_project(prod_stack):
    domain = one(prod_stack, PROJECT_DOMAIN)
    assert domain.inputs["domain"] == "chatvista.vercel.app"
    assert domain.inputs["projectId"] == one(prod_stack, PROJECT).id


def test_nothing_on_digitalocean_is_created_before_the_vercel_app_domain_is_ours(stack_config):
    stack = declare(stack_config(lambda c: c.update({"chatvista:turn": {"enabled": True}})))
    domain = one(stack, PROJECT_DOMAIN)
    on_digitalocean = [r for r in stack.resources if r.custom and r.type.startswith("digitalocean:")]
    assert len(on_digitalocean) > 10
    waiting = [r.name for r in on_digitalocean if domain.urn not in depends_on(stack, r)]
    assert waiting == []


def test_custom_domains_are_declared_too_and_the_first_is_the_frontend_url(stack_config):
    stack = declare(
        stack_config(lambda c: c["chatvista:frontend"].update({"domains": ["chatvista.io", "www.chatvista.io"]}))
    )
    assert sorted(d.inputs["domain"] for d in stack.of_type(PROJECT_DOMAIN)) == [
        "chatvista.io",
        "chatvista.vercel.app",
        "www.chatvista.io",
    ]
    assert stack.outputs["frontendUrl"].value == "https://chatvista.io"


def test_pulumi_up_creates_a_production_deployment_of_the_production_branch(prod_stack):
    deployment = one(prod_stack, DEPLOYMENT)
    project = one(prod_stack, PROJECT)
    assert deployment.inputs["projectId"] == project.id
    assert deployment.inputs["ref"] == "main"
    assert deployment.inputs["production"] is True
    assert "files" not in deployment.inputs  # built by Vercel from the git repository, not uploaded


def test_the_deployment_waits_for_the_env_vars_the_route_and_the_domains(prod_stack):
    deployment = one(prod_stack, DEPLOYMENT)
    needed = {r.urn for r in [*prod_stack.of_type(VERCEL_ENV), *prod_stack.of_type(VERCEL_ROUTE)]}
    needed |= {r.urn for r in prod_stack.of_type(PROJECT_DOMAIN)}
    assert len(needed) == 9
    assert needed <= depends_on(prod_stack, deployment)


def test_the_deployment_records_the_public_values_it_was_built_with(prod_stack):
    meta = one(prod_stack, DEPLOYMENT).inputs["meta"]
    assert meta["chatvistaApiUrl"] == one(prod_stack, APP).state["liveUrl"]
    assert meta["chatvistaBuild"].startswith("sha256:")


def test_a_changed_public_value_makes_a_new_deployment_and_an_unchanged_one_does_not(stack_config, prod_stack):
    # vercel/terraform-provider-vercel vercel/resource_deployment.go: meta is RequiresReplaceIfConfigured,
    # so a different fingerprint replaces the deployment, i.e. Vercel builds again.
    again = declare(stack_config())
    renamed = declare(stack_config(lambda c: c["chatvista:frontend"].update({"appName": "Meet"})))
    moved = declare(stack_config(lambda c: c["chatvista:backend"].update({"domain": "api.chatvista.io"})))
    built = one(prod_stack, DEPLOYMENT).inputs["meta"]["chatvistaBuild"]

    assert one(again, DEPLOYMENT).inputs["meta"]["chatvistaBuild"] == built
    assert one(renamed, DEPLOYMENT).inputs["meta"]["chatvistaBuild"] != built
    assert one(moved, DEPLOYMENT).inputs["meta"]["chatvistaBuild"] != built
    assert one(moved, DEPLOYMENT).inputs["meta"]["chatvistaApiUrl"] == "https://api.chatvista.io"


def test_a_changed_node_version_makes_a_new_deployment(stack_config, prod_stack):
    # The Node.js major the build runs on changes what is built (engines, native modules): the project's
    # nodeVersion must rebuild the production deployment as a changed build command does.
    built = one(prod_stack, DEPLOYMENT).inputs["meta"]["chatvistaBuild"]
    node24 = declare(stack_config(lambda c: c["chatvista:frontend"].update({"nodeVersion": "24.x"})))
    assert one(node24, DEPLOYMENT).inputs["meta"]["chatvistaBuild"] != built


def test_frontend_url_is_a_production_domain_the_deployment_was_given(prod_stack):
    url = prod_stack.outputs["frontendUrl"].value
    assert url == "https://chatvista.vercel.app"
    assert url.removeprefix("https://") in one(prod_stack, DEPLOYMENT).state["domains"]


def test_frontend_url_skips_a_custom_domain_vercel_did_not_assign(stack_config):
    """An unverified custom domain gets no alias: the URL that serves is the .vercel.app one."""

    class UnverifiedDomains(StackMocks):
        def _ProjectDomain(self, seed: str, inputs: dict) -> tuple[str, dict]:
            rid, state = super()._ProjectDomain(seed, inputs)
            if not inputs["domain"].endswith(".vercel.app"):
                state["verified"] = False
            return rid, state

    cfg = stack_config(lambda c: c["chatvista:frontend"].update({"domains": ["chatvista.io"]}))
    stack = declare(cfg, mocks=UnverifiedDomains())
    assert stack.outputs["frontendUrl"].value == "https://chatvista.vercel.app"
