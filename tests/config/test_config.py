"""Stack config validation: every bad value fails before any resource is declared, naming the key, the
value and what is allowed."""

from __future__ import annotations

import json
import re
from typing import get_args

import pytest
import yaml
from pydantic import BaseModel

from infra.config.catalogue import APP_REGIONS
from infra.config.loading import PROJECT_ROOT, load_pulumi_config, load_stack_file
from infra.config.schema import (
    BackendSettings,
    CacheSettings,
    ConfigError,
    DatabaseSettings,
    SecureValue,
    StackConfig,
    TurnSettings,
)


def problem(exc: pytest.ExceptionInfo[ConfigError], key: str):
    matches = [p for p in exc.value.problems if p.key == key]
    assert matches, f"no problem reported for {key}: {exc.value}"
    return matches[0]


def test_prod_stack_reproduces_the_seed(prod_config):
    assert prod_config.region == "nyc" and prod_config.db_region == "nyc3"
    assert (prod_config.database.version, prod_config.database.size, prod_config.database.node_count) == (
        "16",
        "db-s-1vcpu-1gb",
        1,
    )
    assert (
        prod_config.cache.enabled
        and prod_config.cache.engine == "valkey"
        and prod_config.cache.size == "db-s-1vcpu-1gb"
    )
    assert (prod_config.backend.instance_size, prod_config.backend.instance_count, prod_config.backend.port) == (
        "apps-s-1vcpu-0.5gb",
        1,
        4000,
    )
    assert prod_config.frontend.root_directory == "apps/frontend"
    assert prod_config.protect is True


def test_dev_stack_is_the_cheap_profile():
    dev = load_stack_file("dev")
    assert dev.cache.enabled is False
    assert dev.protect is False
    assert dev.database.size == "db-s-1vcpu-1gb" and dev.backend.instance_size == "apps-s-1vcpu-0.5gb"


@pytest.mark.parametrize(("region", "datacenter"), sorted(APP_REGIONS.items()))
def test_data_region_is_derived_from_the_app_region(stack_config, region, datacenter):
    assert stack_config(lambda c: c.update({"chatvista:region": region})).db_region == datacenter


def test_data_region_can_be_overridden(stack_config):
    assert stack_config(lambda c: c.update({"chatvista:dataRegion": "nyc1"})).db_region == "nyc1"


def test_unknown_region_is_rejected(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c.update({"chatvista:region": "mars"}))
    p = problem(exc, "chatvista:region")
    assert p.value == "mars"
    assert "nyc" in p.message and "ams" in p.message and "allowed" in p.message


def test_unknown_database_size_is_rejected(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:database"].update({"size": "db-s-64vcpu-1tb"}))
    p = problem(exc, "chatvista:database.size")
    assert p.value == "db-s-64vcpu-1tb" and "db-s-1vcpu-1gb" in p.message


def test_unknown_app_instance_size_is_rejected(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:backend"].update({"instanceSize": "basic-huge"}))
    p = problem(exc, "chatvista:backend.instanceSize")
    assert p.value == "basic-huge" and "apps-s-1vcpu-0.5gb" in p.message


def test_unknown_cache_size_is_rejected(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:cache"].update({"size": "valkey-1gb"}))
    assert problem(exc, "chatvista:cache.size").value == "valkey-1gb"


@pytest.mark.parametrize("name", ["Chat_API", "1chatvista", "chatvista-", "a", "x" * 33, "chat vista"])
def test_app_name_must_match_the_app_platform_pattern(stack_config, name):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:backend"].update({"name": name}))
    p = problem(exc, "chatvista:backend.name")
    assert p.value == name and "^[a-z][a-z0-9-]{0,30}[a-z0-9]$" in p.message


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("https://app.example.com/", "trailing slash"),
        ("https://app.example.com/meetings", "path"),
        ("*", "wildcard"),
        ("https://*.example.com", "wildcard"),
        ("http://app.example.com", "http:// outside localhost"),
    ],
)
def test_bad_cors_origin_is_rejected(stack_config, origin, why):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c.update({"chatvista:corsOrigins": ["https://ok.example.com", origin]}))
    p = problem(exc, "chatvista:corsOrigins[1]")
    assert p.value == origin and why in p.message


def test_http_localhost_origin_is_allowed(stack_config):
    cfg = stack_config(lambda c: c.update({"chatvista:corsOrigins": ["http://localhost:3000"]}))
    assert cfg.all_cors_origins == ["https://chatvista.vercel.app", "http://localhost:3000"]


def test_plaintext_jwt_secret_is_rejected_without_echoing_it(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c.update({"chatvista:jwtSecret": "hunter2-hunter2"}))
    p = problem(exc, "chatvista:jwtSecret")
    assert "pulumi config set --secret chatvista:jwtSecret" in p.message
    assert "hunter2" not in str(exc.value)


def test_secure_jwt_secret_stays_encrypted_offline(stack_config):
    cfg = stack_config(lambda c: c.update({"chatvista:jwtSecret": {"secure": "v1:abc:ciphertext=="}}))
    assert cfg.jwt_secret == SecureValue("jwtSecret", "v1:abc:ciphertext==")
    assert "ciphertext" not in repr(cfg.jwt_secret)


def test_only_jwt_secret_may_be_secure(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c.update({"chatvista:region": {"secure": "v1:abc"}}))
    assert "only jwtSecret" in problem(exc, "chatvista:region").message


def test_unknown_keys_are_rejected_with_the_allowed_ones(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:backend"].update({"instanceSzie": "apps-s-1vcpu-1gb"}))
    p = problem(exc, "chatvista:backend.instanceSzie")
    assert "unknown key" in p.message and "instanceSize" in p.message


def test_missing_required_key_is_named(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c.pop("chatvista:frontend"))
    assert problem(exc, "chatvista:frontend").message == "is required"


def test_a_frontend_domain_listed_twice_is_rejected(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:frontend"].update({"domains": ["chatvista.io", "ChatVista.io"]}))
    assert "chatvista.io more than once" in problem(exc, "chatvista:frontend.domains").message


def test_frontend_node_version_defaults_to_a_supported_lts(prod_config):
    assert prod_config.frontend.node_version == "22.x"


@pytest.mark.parametrize("version", ["20.x", "18.x"])
def test_a_node_version_vercel_discontinued_is_rejected(stack_config, version):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:frontend"].update({"nodeVersion": version}))
    message = problem(exc, "chatvista:frontend.nodeVersion").message
    assert "discontinued" in message and "22.x" in message and "24.x" in message


def test_an_unknown_node_version_is_rejected_with_the_allowed_ones(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:frontend"].update({"nodeVersion": "22"}))
    assert "allowed: 24.x, 22.x" in problem(exc, "chatvista:frontend.nodeVersion").message


def _preview_suffix(suffix: str, plan: str = "pro"):
    return lambda c: c["chatvista:frontend"].update({"previewDomainSuffix": suffix, "plan": plan})


def test_preview_origins_are_the_previews_under_a_suffix_the_team_owns(stack_config):
    import re

    cfg = stack_config(_preview_suffix("Preview.ChatVista.io"))
    assert cfg.frontend.preview_domain_suffix == "preview.chatvista.io"
    regex = re.compile(cfg.cors_preview_origin_regex)
    # Vercel names previews <project>-<hash>-<scope> and <project>-git-<branch>-<scope>, under the suffix.
    assert regex.fullmatch("https://chatvista-a1b2c3d4e-acme.preview.chatvista.io")
    assert regex.fullmatch("https://chatvista-git-feature-x-acme.preview.chatvista.io")
    # Nothing another Vercel account can create: no vercel.app host, whatever the team is called.
    assert not regex.fullmatch("https://chatvista-a1b2c3d4e-evil-acme.vercel.app")
    assert not regex.fullmatch("https://chatvista-x-a1b2c3d4e-acme.vercel.app")
    assert not regex.fullmatch("https://chatvista-a1b2c3d4e-acme.preview.chatvista.io.evil.com")
    assert not regex.fullmatch("https://deep.chatvista-a1b2c3d4e-acme.preview.chatvista.io")
    assert not regex.fullmatch("http://chatvista-a1b2c3d4e-acme.preview.chatvista.io")


def test_without_a_preview_suffix_no_preview_origin_is_allowed(stack_config):
    assert stack_config().cors_preview_origin_regex is None


@pytest.mark.parametrize("suffix", ["vercel.app", "acme.vercel.app", "vercel.dev", "x.now.sh"])
def test_a_preview_suffix_on_a_shared_platform_domain_is_refused(stack_config, suffix):
    with pytest.raises(ConfigError) as exc:
        stack_config(_preview_suffix(suffix))
    message = problem(exc, "chatvista:frontend.previewDomainSuffix").message
    assert "anyone's" in message and "a domain your team owns" in message


def test_a_preview_suffix_needs_vercel_pro(stack_config):
    with pytest.raises(ConfigError) as exc:
        stack_config(_preview_suffix("preview.chatvista.io", plan="hobby"))
    assert "plan: pro" in problem(exc, "chatvista:frontend").message


@pytest.mark.parametrize("retired", [{"allowPreviewOrigins": True, "teamSlug": "acme"}, {"teamSlug": "acme"}])
def test_the_team_slug_preview_regex_is_retired_with_a_hint(stack_config, retired):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:frontend"].update(retired))
    message = problem(exc, "chatvista:frontend").message
    assert "evil-acme" in message and "previewDomainSuffix" in message and "corsOrigins" in message


def test_frontend_origins_are_normalised_and_deduplicated(stack_config):
    cfg = stack_config(
        lambda c: (
            c["chatvista:frontend"].update({"domains": ["app.chatvista.io", "www.chatvista.io"]}),
            c.update({"chatvista:corsOrigins": ["https://APP.chatvista.io", "https://admin.chatvista.io:443"]}),
        )
    )
    assert cfg.all_cors_origins == [
        "https://chatvista.vercel.app",
        "https://app.chatvista.io",
        "https://www.chatvista.io",
        "https://admin.chatvista.io",
    ]
    assert cfg.frontend_url == "https://app.chatvista.io"


def test_every_problem_is_reported_at_once(stack_config):
    def edit(c):
        c.update({"chatvista:region": "mars"})
        c["chatvista:backend"].update({"name": "Bad_Name", "port": 0})

    with pytest.raises(ConfigError) as exc:
        stack_config(edit)
    keys = {p.key for p in exc.value.problems}
    assert {"chatvista:region", "chatvista:backend.name", "chatvista:backend.port"} <= keys


def test_missing_stack_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_stack_file(tmp_path / "Pulumi.nope.yaml")
    assert "no such stack file" in str(exc.value)


def test_unreadable_stack_file_is_a_config_error(tmp_path):
    path = tmp_path / "Pulumi.binary.yaml"
    path.write_bytes(b"config:\n  chatvista:region: \xff\xfe\n")
    with pytest.raises(ConfigError) as exc:
        load_stack_file(path)
    assert "cannot be read" in str(exc.value)


def test_project_file_defaults_match_the_model_defaults():
    """Pulumi.yaml applies its defaults to stacks that omit a key; they must equal the model's."""
    project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    declared = project["config"]
    assert project["name"] == "chatvista"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    for key, model in (
        ("database", DatabaseSettings),
        ("cache", CacheSettings),
        ("backend", BackendSettings),
        ("turn", TurnSettings),
    ):
        assert declared[key]["default"] == model().model_dump(by_alias=True, exclude_none=True), key
    for key in (
        "region",
        "dataRegion",
        "protect",
        "api",
        "database",
        "cache",
        "backend",
        "frontend",
        "corsOrigins",
        "jwtSecret",
        "turn",
    ):
        assert declared[key]["description"], key


def test_project_file_documents_every_config_key():
    """Every key the model accepts, nested ones included, is declared or described in Pulumi.yaml."""
    declared = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["config"]
    top = {f.alias or name for name, f in StackConfig.model_fields.items() if name != "stack"}
    assert top == set(declared)

    def nested_keys(model: type[BaseModel]) -> set[str]:
        keys = set()
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
            for candidate in (field.annotation, *get_args(field.annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    keys |= nested_keys(candidate)
        return keys

    for name, field in StackConfig.model_fields.items():
        section = next((c for c in (field.annotation, *get_args(field.annotation)) if isinstance(c, type)), None)
        if section is None or not issubclass(section, BaseModel) or section is SecureValue:
            continue
        description = declared[field.alias or name]["description"]
        missing = sorted(k for k in nested_keys(section) if not re.search(rf"\b{re.escape(k)}\b", description))
        assert missing == [], f"{field.alias or name}: {missing}"


class TestPulumiEngineConfig:
    """Inside `pulumi up` the values come from the engine as strings (objects as JSON)."""

    @pytest.fixture
    def engine_config(self, monkeypatch):
        from pulumi.runtime import config as runtime_config

        def set_config(values: dict, secret_keys: list[str]) -> None:
            monkeypatch.setattr(runtime_config, "get_config_env", lambda: {})
            raw = {f"chatvista:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
            runtime_config.set_all_config(raw, [f"chatvista:{k}" for k in secret_keys])

        yield set_config
        runtime_config.set_all_config({}, [])

    @pytest.fixture
    def prod_values(self):
        document = yaml.safe_load((PROJECT_ROOT / "Pulumi.prod.yaml").read_text())
        return {k.split(":", 1)[1]: v for k, v in document["config"].items()}

    def test_engine_values_validate_like_the_stack_file(self, engine_config, prod_values):
        engine_config({**prod_values, "protect": "true", "dataRegion": ""}, [])
        cfg = load_pulumi_config()
        assert cfg == load_stack_file("prod").model_copy(update={"stack": cfg.stack})
        assert cfg.jwt_secret is None

    def test_engine_secret_jwt_secret_is_accepted(self, engine_config, prod_values):
        engine_config({**prod_values, "jwtSecret": "s3cr3t" * 11}, ["jwtSecret"])
        assert load_pulumi_config().jwt_secret == SecureValue("jwtSecret", None)

    def test_engine_plaintext_jwt_secret_is_rejected(self, engine_config, prod_values):
        engine_config({**prod_values, "jwtSecret": "s3cr3t" * 11}, [])
        with pytest.raises(ConfigError) as exc:
            load_pulumi_config()
        assert "must be a secure value" in str(exc.value) and "s3cr3t" not in str(exc.value)

    def test_engine_bad_value_is_rejected(self, engine_config, prod_values):
        engine_config({**prod_values, "region": "mars"}, [])
        with pytest.raises(ConfigError) as exc:
            load_pulumi_config()
        assert problem(exc, "chatvista:region").value == "mars"


@pytest.mark.parametrize("name", ["chat.vista", "chat_vista", "c" * 53])
def test_project_name_must_be_one_the_vercel_provider_and_a_vercel_app_host_accept(stack_config, name):
    with pytest.raises(ConfigError) as exc:
        stack_config(lambda c: c["chatvista:frontend"].update({"projectName": name}))
    assert "chatvista:frontend.projectName" in str(exc.value) and "up to 52" in str(exc.value)
