"""Configuration and the edges of the app: refusing bad settings, CORS, health, the error envelope."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chatvista_api.settings import Settings, SettingsError, load_settings

BASE = {"database_url": "postgresql://u:p@127.0.0.1:5432/db", "jwt_secret": "s" * 64}


def test_production_refuses_a_jwt_secret_shorter_than_64_characters() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**{**BASE, "app_env": "production", "jwt_secret": "k" * 63})
    message = str(info.value)
    assert "JWT_SECRET must be at least 64 characters in production (it has 63)" in message
    assert "k" * 63 not in message
    assert load_settings(**{**BASE, "app_env": "production", "jwt_secret": "k" * 64}).is_production


def test_a_missing_jwt_secret_is_named() -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET: is required but not set"):
        load_settings(database_url=BASE["database_url"])


def test_the_process_refuses_to_start_in_production_with_a_weak_secret() -> None:
    env = {
        "PATH": os.environ["PATH"],
        "APP_ENV": "production",
        "DATABASE_URL": "postgresql://u:p@127.0.0.1:5432/db",
        "JWT_SECRET": "tooshort-but-secret-value",
    }
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "chatvista_api.main:app", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "JWT_SECRET must be at least 64 characters in production" in result.stderr
    assert "tooshort-but-secret-value" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_do_style_database_urls_are_normalised_for_psycopg() -> None:
    settings = Settings(
        **{**BASE, "database_url": "postgres://doadmin:pw@db-x.db.ondigitalocean.com:25060/defaultdb?sslmode=require"}
    )
    url = settings.sqlalchemy_url
    assert url.drivername == "postgresql+psycopg" and url.port == 25060 and url.query == {"sslmode": "require"}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("redis_url", "http://cache:6379", "REDIS_URL: must start with redis:// or rediss://"),
        ("database_url", "mysql://u:p@h/db", "DATABASE_URL: the database URL has mysql://"),
        ("cors_origins", "https://ok.example.com,not a url", "CORS_ORIGINS: 'not a url' is not an origin"),
        ("cors_origin_regex", r"^https://chatvista-[a-z0-9-]+-acme\.vercel\.app$", "CORS_ORIGIN_REGEX: is retired"),
        ("cors_preview_suffix", "acme.vercel.app", "CORS_PREVIEW_SUFFIX: acme.vercel.app is under vercel.app"),
        ("cors_preview_suffix", "https://preview.example.com", "CORS_PREVIEW_SUFFIX: is not a hostname"),
        ("turn_url", "http://turn.example.com", "TURN_URL: 'http://turn.example.com' is not a TURN URL"),
        ("port", "99999", "PORT:"),
        (
            "signaling_max_connections_per_user",
            "0",
            "SIGNALING_MAX_CONNECTIONS_PER_USER: Input should be greater than or equal to 1",
        ),
        ("signaling_connect_timeout_seconds", "0", "SIGNALING_CONNECT_TIMEOUT_SECONDS: Input should be greater than 0"),
    ],
)
def test_bad_values_are_reported_by_variable_name(name: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**{**BASE, name: value})
    assert expected in str(info.value)


def test_turn_url_without_turn_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="TURN_URL is set but TURN_SECRET is not"):
        load_settings(**{**BASE, "turn_url": "turn:turn.example.com:3478"})


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", BASE["database_url"])
    monkeypatch.setenv("JWT_SECRET", BASE["jwt_secret"])
    monkeypatch.setenv("CORS_ORIGINS", "https://App.Example.com/, https://other.example.com")
    monkeypatch.setenv("FRONTEND_URL", "https://chatvista.vercel.app/")
    monkeypatch.setenv("STUN_URLS", "stun:a.example.com:3478,stun:b.example.com:3478")
    monkeypatch.setenv("RATE_LIMIT_ENABLED", "false")
    settings = load_settings()
    assert settings.allowed_origins == [
        "https://chatvista.vercel.app",
        "https://app.example.com",
        "https://other.example.com",
    ]
    assert settings.stun_urls == ["stun:a.example.com:3478", "stun:b.example.com:3478"]
    assert settings.rate_limit_enabled is False and settings.port == 4000


PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


@pytest.mark.anyio
async def test_cors_preflight_passes_for_allowed_origins_only(make_settings, open_client) -> None:
    settings = make_settings(cors_origins="https://app.example.com/", cors_preview_suffix="Preview.Example.com")
    preview_origin = "https://chatvista-abc123-team.preview.example.com"

    async def preflight(client, origin: str):
        return await client.options("/api/v1/auth/login", headers={**PREFLIGHT, "Origin": origin})

    async with open_client(settings) as client:
        allowed = await preflight(client, "https://app.example.com")
        preview = await preflight(client, preview_origin)
        denied = await preflight(client, "https://evil.example.com")
        # What the old team-slug regex admitted: another account's team named evil-team, deeper
        # names under the suffix, the suffix as a prefix of someone else's domain, plain http.
        strangers = [
            await preflight(client, origin)
            for origin in (
                "https://chatvista-abc123-evil-team.vercel.app",
                "https://a.chatvista-abc123-team.preview.example.com",
                "https://chatvista-abc123-team.preview.example.com.evil.com",
                "http://chatvista-abc123-team.preview.example.com",
                "null",
            )
        ]
        simple = await client.get("/health", headers={"Origin": "https://evil.example.com"})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert preview.status_code == 200
    assert preview.headers["access-control-allow-origin"] == preview_origin
    for response in (denied, *strangers):
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in simple.headers


@pytest.mark.anyio
async def test_health_does_no_io_and_ready_checks_both_dependencies(client, make_settings, open_client) -> None:
    health = await client.get("/health")
    ready = await client.get("/ready")
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["checks"], body["rateLimit"]) == ("ok", {"database": "ok", "redis": "ok"}, "redis")

    broken = make_settings(database_url="postgresql://postgres@127.0.0.1:1/nothing")
    async with open_client(broken) as down:
        assert (await down.get("/health")).status_code == 200
        not_ready = await down.get("/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["database"].startswith("unavailable")
    assert not_ready.json()["checks"]["redis"] == "ok"


@pytest.mark.anyio
async def test_without_redis_ready_reports_degraded_per_process_limits(make_settings, open_client) -> None:
    async with open_client(make_settings(redis_url=None)) as client:
        ready = await client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["checks"], body["rateLimit"]) == (
        "degraded",
        {"database": "ok", "redis": "not configured"},
        "per-process",
    )


@pytest.mark.anyio
async def test_database_outage_is_a_503_envelope_not_a_crash(make_settings, open_client) -> None:
    async with open_client(make_settings(database_url="postgresql://postgres@127.0.0.1:1/nothing")) as client:
        response = await client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "whatever-pass"})
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


@pytest.mark.anyio
async def test_unknown_routes_and_methods_use_the_error_envelope(client) -> None:
    missing = await client.get("/api/v1/nothing-here")
    wrong_method = await client.put("/api/v1/meetings")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    malformed = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422 and malformed.json()["code"] == "validation_error"


@pytest.mark.anyio
async def test_openapi_document_is_served_under_api_v1(client) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/api/v1/users/{user_id}",
        "/api/v1/meetings/{meeting_id}/rtc-config",
        "/health",
        "/ready",
    ):
        assert path in paths
