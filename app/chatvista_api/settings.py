"""Runtime configuration, read once from the environment (names as App Platform sets them)."""

from __future__ import annotations

import ipaddress
import re
from functools import cached_property
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL

from chatvista_api.database_url import DatabaseURLError, normalize_database_url

PRODUCTION_MIN_SECRET_LENGTH = 64
# HS256 wants a key at least as long as its hash (RFC 7518 3.2); production asks for more.
DEVELOPMENT_MIN_SECRET_LENGTH = 32

CommaList = Annotated[list[str], NoDecode]
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
# Domains under which any Vercel account gets hosts (infra/cors.py keeps the same list for `plan`).
SHARED_PLATFORM_DOMAINS = ("vercel.app", "vercel.dev", "now.sh")


class SettingsError(Exception):
    """Configuration the API refuses to start with; the message names each bad variable and the fix."""


def normalize_origin(value: str) -> str:
    """``https://App.Example.com/`` -> ``https://app.example.com``: what a browser sends as Origin."""
    raw = value.strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"{value!r} is not an origin; use scheme://host[:port], e.g. https://app.example.com")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{host}{port}"


def _split(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    app_env: Literal["development", "production"] = "development"
    port: int = Field(default=4000, ge=1, le=65535)

    database_url: SecretStr
    db_pool_size: int = Field(default=10, ge=1, le=200)
    redis_url: SecretStr | None = None
    # Namespaces this deployment's keys, so that stacks (or test runs) can share one Redis.
    redis_key_prefix: str = Field(default="chatvista:", pattern=r"^[A-Za-z0-9:_.-]{1,64}$")

    jwt_secret: SecretStr
    # The signing key before the last rotation (`chatvista-ops rotate jwt`): tokens it signed are accepted until
    # JWT_PREVIOUS_SECRET_UNTIL, by when the last of them has expired; then the key is dropped.
    jwt_previous_secret: SecretStr | None = None
    jwt_previous_secret_until: AwareDatetime | None = None
    access_token_ttl_seconds: int = 15 * 60
    refresh_token_ttl_seconds: int = 7 * 24 * 3600

    frontend_url: str | None = None
    cors_origins: CommaList = []
    # Preview deployments named under a domain the team owns (Vercel's Preview Deployment Suffix):
    # https://<one label>.<suffix> is allowed. Replaces CORS_ORIGIN_REGEX, which is refused.
    cors_preview_suffix: str | None = None
    cors_origin_regex: str | None = None

    # The largest request body any route accepts. The largest legitimate one, a meeting with a
    # 200-character title and a 5000-character description, is ~20 KiB as the UTF-8 browsers send,
    # and ~62 KiB even if every character were an emoji escaped as \ud83d\ude00 (12 bytes).
    max_request_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)

    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(default=300, ge=1)
    rate_limit_auth_per_minute: int = Field(default=10, ge=1)
    # Peers whose DO-Connecting-IP / X-Forwarded-For we believe: App Platform's ingress. The same
    # variable uvicorn reads for --forwarded-allow-ips, so both agree on who the proxy is.
    forwarded_allow_ips: CommaList = ["127.0.0.1", "::1"]

    # Opening signaling (socket.io) connections, per client (the rate-limit identity) and per user. The
    # two rates are off with RATE_LIMIT_ENABLED; the caps and the connect deadline always hold.
    signaling_handshakes_per_minute: int = Field(default=60, ge=1)
    signaling_connects_per_minute: int = Field(default=30, ge=1)
    signaling_max_connections_per_ip: int = Field(default=100, ge=1)
    signaling_max_connections_per_user: int = Field(default=10, ge=1)
    signaling_connect_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Every chat message, hand and reaction reaches the whole room; a peer-to-peer mesh is unusable
    # long before this many peers anyway (each sends its media to every other one).
    signaling_max_peers_per_room: int = Field(default=50, ge=2)

    stun_urls: CommaList = ["stun:stun.l.google.com:19302"]
    turn_url: CommaList = []
    turn_secret: SecretStr | None = None
    turn_ttl_seconds: int = Field(default=3600, ge=60, le=86400)

    @field_validator("cors_origins", "stun_urls", "turn_url", "forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_origin(origin) for origin in value))

    @field_validator("frontend_url")
    @classmethod
    def _frontend(cls, value: str | None) -> str | None:
        return normalize_origin(value) if value and value.strip() else None

    @field_validator("cors_preview_suffix")
    @classmethod
    def _preview_suffix(cls, value: str | None) -> str | None:
        if not value or not value.strip():
            return None
        host = value.strip().lower().rstrip(".")
        if not _HOSTNAME.fullmatch(host):
            raise ValueError("is not a hostname; set the bare domain, e.g. preview.example.com")
        shared = next((d for d in SHARED_PLATFORM_DOMAINS if host == d or host.endswith(f".{d}")), None)
        if shared:
            raise ValueError(f"{host} is under {shared}, where anyone's deployments live; use a domain your team owns")
        return host

    @field_validator("cors_origin_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value and value.strip():
            raise ValueError(
                "is retired: a pattern over *.vercel.app admitted other Vercel accounts' deployments; set "
                "CORS_PREVIEW_SUFFIX to a preview domain your team owns, or list origins in CORS_ORIGINS"
            )
        return None

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: SecretStr) -> SecretStr:
        try:
            normalize_database_url(value.get_secret_value())
        except DatabaseURLError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("redis_url", mode="before")
    @classmethod
    def _redis(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        if urlsplit(raw.strip()).scheme not in {"redis", "rediss"}:
            raise ValueError("must start with redis:// or rediss://, e.g. rediss://default:pass@host:25061")
        return raw.strip()

    @field_validator("stun_urls")
    @classmethod
    def _stun(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "stuns:")):
                raise ValueError(f"{url!r} is not a STUN URL; expected e.g. stun:stun.example.com:3478")
        return value

    @field_validator("turn_url")
    @classmethod
    def _turn(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(f"{url!r} is not a TURN URL; expected e.g. turn:turn.example.com:3478")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        minimum = PRODUCTION_MIN_SECRET_LENGTH if self.is_production else DEVELOPMENT_MIN_SECRET_LENGTH
        if len(secret.strip()) < minimum:
            raise ValueError(
                f"JWT_SECRET must be at least {minimum} characters in {self.app_env} "
                f"(it has {len(secret.strip())}); generate one with `openssl rand -hex 48`"
            )
        if (self.jwt_previous_secret is None) != (self.jwt_previous_secret_until is None):
            raise ValueError(
                "JWT_PREVIOUS_SECRET and JWT_PREVIOUS_SECRET_UNTIL go together: the key before the last rotation, "
                "and until when (ISO 8601 with a timezone) tokens it signed are accepted"
            )
        previous = self.jwt_previous_secret.get_secret_value() if self.jwt_previous_secret else None
        if previous is not None and len(previous.strip()) < minimum:
            raise ValueError(f"JWT_PREVIOUS_SECRET must be at least {minimum} characters in {self.app_env}")
        if self.turn_url and self.turn_secret is None:
            raise ValueError("TURN_URL is set but TURN_SECRET is not; set the TURN server's shared auth secret")
        return self

    @cached_property
    def sqlalchemy_url(self) -> URL:
        return normalize_database_url(self.database_url.get_secret_value())

    @cached_property
    def allowed_origins(self) -> list[str]:
        origins = list(self.cors_origins)
        if self.frontend_url and self.frontend_url not in origins:
            origins.insert(0, self.frontend_url)
        return origins

    @cached_property
    def preview_origin_regex(self) -> str | None:
        """https://<one label>.<suffix>: how Vercel names a preview under a custom suffix
        (``<project>-<hash>-<scope>``, ``<project>-git-<branch>-<scope>``)."""
        if self.cors_preview_suffix is None:
            return None
        return rf"https://[a-z0-9-]+\.{re.escape(self.cors_preview_suffix)}"

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"


def load_settings(**overrides: object) -> Settings:
    """Read :class:`Settings` from the environment, or raise :class:`SettingsError` naming each bad
    variable. Values are never echoed: several of them are secrets."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "is required but not set"
            problems.append(f"  {name}: {message}" if name else f"  {message}")
        raise SettingsError("invalid configuration:\n" + "\n".join(problems)) from None
