"""Passwords, tokens and TURN credentials. Pure functions over :class:`Settings`, reused by the HTTP
routes and by realtime signaling (which authenticates its sockets with :func:`decode_access_token`)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources

import anyio
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from chatvista_api.errors import APIError
from chatvista_api.settings import Settings

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "chatvista-api"
JWT_AUDIENCE = "chatvista"
PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 256

# argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): argon2-cffi's default profile
# (64 MiB, 3 passes, 4 lanes) costs several times more per hash, which a 1 vCPU instance cannot afford per
# login (docs/benchmarks.md, "Password hashing and checking"). Older hashes are upgraded at the next login (needs_rehash).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A few hashes at a time keeps memory bounded under a login storm, and they run off the event loop.
_hash_limiter: anyio.CapacityLimiter | None = None
# Verified against when the email is unknown, so that a miss costs the same as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def _limiter() -> anyio.CapacityLimiter:
    global _hash_limiter
    if _hash_limiter is None:
        _hash_limiter = anyio.CapacityLimiter(4)
    return _hash_limiter


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("chatvista_api").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


# zxcvbn's score: 3 is "safely unguessable: moderate protection from an offline slow-hash scenario"
# (10^8 guesses or more), which is what a leaked table of argon2 hashes calls for.
PASSWORD_MIN_SCORE = 3
# zxcvbn's matching grows steeply with length and l33t characters, so only this many leading characters
# are estimated (the figures: docs/benchmarks.md, "Password hashing and checking"). More characters never make a password
# easier to guess, so the estimate of a prefix is a lower bound of the whole.
PASSWORD_ESTIMATED_CHARS = 16
# zxcvbn keeps the user inputs of the current call in a module-level dictionary: one call at a time.
_zxcvbn_lock = threading.Lock()


@dataclass(frozen=True)
class PasswordProblem:
    """Why a password is refused: a sentence after "password ...", naming the fix, and its details."""

    message: str
    details: dict[str, object] = field(default_factory=dict)


def _strength(password: str, hints: list[str]) -> dict:
    from zxcvbn import zxcvbn  # its dictionaries are slow to import, and only registering needs them

    with _zxcvbn_lock:
        return zxcvbn(password[:PASSWORD_ESTIMATED_CHARS], user_inputs=hints)


def password_problem(password: str, *, email: str | None = None, names: tuple[str, ...] = ()) -> PasswordProblem | None:
    """Why ``password`` is not acceptable, or None when it is. NIST SP 800-63B's rules: a minimum
    length, no composition rules, and a check against what attackers try first (our list of common
    passwords, and zxcvbn's estimate of the guesses needed, which knows dictionaries, names,
    keyboard patterns, repeats, sequences, dates and l33t, and is told the user's own email and name).
    Blocking (for tens of milliseconds at worst): call it through :func:`check_new_password`."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return PasswordProblem(f"must be at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        return PasswordProblem(f"must be at most {PASSWORD_MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in common_passwords():
        return PasswordProblem("is one of the most common passwords; choose something less guessable")
    if email and lowered in {email.lower(), email.split("@", 1)[0].lower()}:
        return PasswordProblem("must not be your email address")
    hints = [part for part in (email, email.split("@", 1)[0] if email else None, *names, "chatvista") if part]
    result = _strength(password, hints)
    if result["score"] >= PASSWORD_MIN_SCORE:
        return None
    feedback = result["feedback"]
    reasons = " ".join(filter(None, [feedback["warning"], *feedback["suggestions"]]))
    return PasswordProblem(
        f"is too easy to guess: {reasons or 'Add another word or two. Uncommon words are better.'}",
        {"score": result["score"], "minScore": PASSWORD_MIN_SCORE},
    )


async def check_new_password(
    password: str, *, field: str, email: str, names: tuple[str, ...] = (), label: str = "password"
) -> None:
    """Raise 422 ``weak_password`` naming the problem and the fix, off the event loop."""
    problem = await anyio.to_thread.run_sync(
        functools.partial(password_problem, password, email=email, names=names), limiter=_limiter()
    )
    if problem is not None:
        raise APIError(422, "weak_password", f"{label} {problem.message}", {"field": field, **problem.details})


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password, limiter=_limiter())


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with ``password_hash=None`` (unknown user) spend the same time and fail."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check, limiter=_limiter())


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


class TokenError(Exception):
    """An access token that is missing, malformed, expired or not ours."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def create_access_token(settings: Settings, user_id: uuid.UUID, session_id: uuid.UUID) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "sid": str(session_id),
        "iss": JWT_ISSUER,
        "aud": JWT_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + settings.access_token_ttl_seconds,
        "typ": "access",
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)


JWT_LEEWAY_SECONDS = 5


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Verify signature, issuer, audience and expiry; raise :class:`TokenError` otherwise."""
    claims = _verified_claims(settings.jwt_secret.get_secret_value(), token)
    # A remembered token has been verified once, but it may have expired since.
    if time.time() >= claims.expires_at.timestamp() + JWT_LEEWAY_SECONDS:
        raise TokenError("the access token has expired")
    return claims


# Every authenticated request presents its access token again, and verifying one (HMAC and claims) is a
# measurable share of the request (docs/benchmarks.md, "Verified token claims are remembered"); a client's token is the same for its 15 minutes, so
# the verified claims are remembered. Only valid tokens are kept (an exception is never cached),
# and the login session behind a token is still checked in the database on every request.
@lru_cache(maxsize=4096)
def _verified_claims(secret: str, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "sid", "iss", "aud"]},
            leeway=JWT_LEEWAY_SECONDS,
        )
        if claims.get("typ") != "access":
            raise TokenError("not an access token")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            session_id=uuid.UUID(claims["sid"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("the access token has expired") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise TokenError("the access token is invalid") from None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are 256-bit random values, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def refresh_expiry(settings: Settings) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds)


_ACCESS_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_access_code() -> str:
    """``xxx-xxxx-xxx`` from 31 unambiguous characters: ~49 bits, typed by people, guessed by nobody."""
    chars = "".join(secrets.choice(_ACCESS_CODE_ALPHABET) for _ in range(10))
    return f"{chars[:3]}-{chars[3:7]}-{chars[7:]}"


def normalize_access_code(typed: str) -> str | None:
    """An access code as people type it (any case, with or without its dashes, e.g. the join dialog's
    ``abcdefghij``) in its stored ``xxx-xxxx-xxx`` form, or None when it cannot be one."""
    chars = typed.strip().lower().replace("-", "")
    if len(chars) != 10 or not set(chars) <= set(_ACCESS_CODE_ALPHABET):
        return None
    return f"{chars[:3]}-{chars[3:7]}-{chars[7:]}"


def access_codes_match(expected: str, given: str) -> bool:
    typed = normalize_access_code(given)
    return typed is not None and hmac.compare_digest(expected.encode(), typed.encode())


def turn_credentials(
    secret: str, user_id: uuid.UUID, ttl_seconds: int, *, now: float | None = None
) -> tuple[str, str, int]:
    """TURN REST API credentials (coturn ``use-auth-secret``): the username is ``<expiry>:<user>`` and
    the password is base64(HMAC-SHA1(secret, username)), so the TURN server can check them without a
    shared database and they stop working at ``expiry``."""
    expiry = int(now if now is not None else time.time()) + ttl_seconds
    username = f"{expiry}:{user_id}"
    credential = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, credential, expiry
