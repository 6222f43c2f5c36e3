"""Rate limiting: counted in Redis and shared by every instance; per process when Redis is away."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from harness.deployment import RedisServer

LOGIN = "/api/v1/auth/login"
CREDENTIALS = {"email": "nobody@example.com", "password": "wrong-password-1"}


def _statuses(responses) -> list[int]:
    return [response.status_code for response in responses]


@pytest.mark.anyio
async def test_login_is_limited_more_strictly_and_answers_429_with_retry_after(make_settings, open_client) -> None:
    async with open_client(make_settings(rate_limit_auth_per_minute=3, rate_limit_per_minute=1000)) as client:
        logins = [await client.post(LOGIN, json=CREDENTIALS) for _ in range(4)]
        other = await client.get("/api/v1/auth/me")

    assert _statuses(logins) == [401, 401, 401, 429]
    limited = logins[-1]
    assert limited.json()["code"] == "rate_limited"
    assert limited.json()["details"]["limit"] == 3
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 401  # the general limit is separate and not reached


@pytest.mark.anyio
async def test_the_general_limit_covers_the_api_but_not_health_checks(make_settings, open_client) -> None:
    async with open_client(make_settings(rate_limit_per_minute=2)) as client:
        api = [await client.get("/api/v1/meetings") for _ in range(3)]
        health = [await client.get("/health") for _ in range(5)]
    assert _statuses(api) == [401, 401, 429]
    assert set(_statuses(health)) == {200}


@pytest.mark.anyio
async def test_disabled_rate_limiting_never_answers_429(make_settings, open_client) -> None:
    async with open_client(make_settings(rate_limit_enabled=False, rate_limit_auth_per_minute=1)) as client:
        logins = [await client.post(LOGIN, json=CREDENTIALS) for _ in range(3)]
        ready = await client.get("/ready")
    assert _statuses(logins) == [401, 401, 401]
    assert ready.json()["rateLimit"] == "disabled"


@pytest.mark.anyio
async def test_do_connecting_ip_counts_only_when_the_request_came_through_the_proxy(make_settings, open_client) -> None:
    settings = make_settings(rate_limit_per_minute=2, forwarded_allow_ips="10.0.0.0/8")
    async with open_client(settings, client_ip="10.244.1.7") as via_proxy:
        # Behind the proxy every client has its own budget, even though the peer is the same.
        proxied = [
            await via_proxy.get("/api/v1/meetings", headers={"DO-Connecting-IP": f"198.51.100.{i % 3}"})
            for i in range(6)
        ]
    async with open_client(settings, client_ip="203.0.113.9") as direct:
        # A direct caller cannot pick a fresh identity per request with the same header.
        spoofed = [await direct.get("/api/v1/meetings", headers={"DO-Connecting-IP": f"192.0.2.{i}"}) for i in range(3)]

    assert _statuses(proxied) == [401] * 6
    assert _statuses(spoofed) == [401, 401, 429]


@pytest.mark.anyio
async def test_without_redis_limits_hold_per_process(make_settings, open_client) -> None:
    async with open_client(make_settings(redis_url=None, rate_limit_auth_per_minute=2)) as client:
        logins = [await client.post(LOGIN, json=CREDENTIALS) for _ in range(3)]
    assert _statuses(logins) == [401, 401, 429]


def test_the_limit_is_shared_between_two_instances_on_one_redis(serve, server_env) -> None:
    env = {**server_env, "RATE_LIMIT_PER_MINUTE": "5"}
    first, second = serve(env), serve(env)

    statuses = []
    for i in range(8):
        base = first if i % 2 == 0 else second
        statuses.append(httpx.get(f"{base}/api/v1/meetings", timeout=10).status_code)

    # Each instance alone saw 4 requests (under 5), so only a shared count can produce the 429s.
    assert statuses == [401] * 5 + [429] * 3


@pytest.fixture
def own_redis():
    """A redis-server of our own, which this test may stop and start again."""
    server = RedisServer()
    server.start()
    yield server
    server.close()


def test_ready_reports_redis_down_and_limits_fall_back_per_process(serve, server_env, own_redis) -> None:
    base = serve({**server_env, "REDIS_URL": own_redis.url, "RATE_LIMIT_AUTH_PER_MINUTE": "3"})
    up = httpx.get(f"{base}/ready", timeout=10)
    assert up.status_code == 200 and up.json()["rateLimit"] == "redis"

    own_redis.stop()
    down = httpx.get(f"{base}/ready", timeout=10)
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("unavailable")
    assert body["rateLimit"] == "per-process"
    # The API keeps serving, and the login limit still holds, counted in this process.
    logins = [httpx.post(f"{base}{LOGIN}", json=CREDENTIALS, timeout=10).status_code for _ in range(4)]
    assert logins == [401, 401, 401, 429]

    own_redis.start()
    again = httpx.get(f"{base}/ready", timeout=10)
    assert again.status_code == 200
    assert again.json()["checks"]["redis"] == "ok" and again.json()["rateLimit"] == "redis"


def _logins(base_url: str, *, local_address: str, headers) -> list[int]:
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(transport=transport, base_url=base_url, timeout=10) as client:
        # A different account each time, so that only the per-address limit can answer 429.
        return [
            client.post(
                LOGIN, json={**CREDENTIALS, "email": f"nobody-{local_address}-{i}@example.com"}, headers=headers(i)
            ).status_code
            for i in range(4)
        ]


def test_behind_uvicorns_proxy_headers_the_client_is_do_connecting_ip_not_x_forwarded_for(serve, server_env) -> None:
    # uvicorn (--proxy-headers, as in the image) trusts 127.0.0.1 only: the stand-in for App Platform's ingress.
    base = serve({**server_env, "RATE_LIMIT_AUTH_PER_MINUTE": "3", "FORWARDED_ALLOW_IPS": "127.0.0.1"})

    # App Platform puts the client in DO-Connecting-IP; X-Forwarded-For may end in a public ingress
    # address shared by many clients, or start with whatever the client sent (here a fresh address per
    # request, before a trusted hop, which uvicorn would take as the client).
    shared_hop = _logins(
        base,
        local_address="127.0.0.1",
        headers=lambda i: {"X-Forwarded-For": "203.0.113.50", "DO-Connecting-IP": f"198.51.100.{i}"},
    )
    spoofed_hops = _logins(
        base,
        local_address="127.0.0.1",
        headers=lambda i: {"X-Forwarded-For": f"192.0.2.{i}, 127.0.0.1", "DO-Connecting-IP": "198.51.100.200"},
    )
    # Not the proxy: neither header counts, whatever it says.
    direct = _logins(
        base,
        local_address="127.0.0.2",
        headers=lambda i: {"X-Forwarded-For": f"192.0.2.{100 + i}", "DO-Connecting-IP": f"198.51.100.{100 + i}"},
    )

    assert shared_hop == [401] * 4
    assert spoofed_hops == [401, 401, 401, 429]
    assert direct == [401, 401, 401, 429]


@pytest.mark.anyio
async def test_ipv6_clients_share_one_budget_per_64_and_ipv4_mapped_addresses_count_as_ipv4(
    make_settings, open_client
) -> None:
    settings = make_settings(rate_limit_per_minute=3)

    async def hits(address: str, n: int = 1) -> list[int]:
        async with open_client(settings, client_ip=address) as client:
            return [(await client.get("/api/v1/meetings")).status_code for _ in range(n)]

    # One /64 is one client, however many of its 2^64 addresses it uses.
    same_64 = [*await hits("2001:db8:1:2::1"), *await hits("2001:db8:1:2::2"), *await hits("2001:db8:1:2:ffff:1:2:3")]
    same_64 += await hits("2001:db8:1:2:aaaa::9")
    # The neighbouring /64 is someone else.
    neighbour = await hits("2001:db8:1:3::1", 3)
    # An IPv4 client seen through an IPv6 socket is the same IPv4 client.
    ipv4 = [*await hits("203.0.113.9", 2), *await hits("::ffff:203.0.113.9", 2)]

    assert same_64 == [401, 401, 401, 429]
    assert neighbour == [401, 401, 401]
    assert ipv4 == [401, 401, 401, 429]


@pytest.mark.anyio
async def test_an_ipv6_client_behind_the_proxy_is_keyed_on_its_64(make_settings, open_client) -> None:
    settings = make_settings(rate_limit_per_minute=2, forwarded_allow_ips="10.0.0.0/8")
    async with open_client(settings, client_ip="10.244.1.7") as via_proxy:
        statuses = [
            (
                await via_proxy.get("/api/v1/meetings", headers={"DO-Connecting-IP": f"2001:db8:77:1::{i + 1:x}"})
            ).status_code
            for i in range(3)
        ]
    assert statuses == [401, 401, 429]


def test_rate_limit_key_is_the_64_for_ipv6_and_the_address_for_ipv4() -> None:
    from chatvista_api.ratelimit import rate_limit_key

    assert rate_limit_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:DB8:1:2::") == "2001:db8:1:2::/64"
    assert rate_limit_key("::ffff:198.51.100.4") == "198.51.100.4"
    assert rate_limit_key("198.51.100.4") == "198.51.100.4"
    assert rate_limit_key("fe80::1%eth0") == "fe80::/64"
    # Not an IP (a unix socket peer, a test client): kept as it is, one bucket per name.
    assert rate_limit_key("unknown") == "unknown"


CHANGE_PASSWORD = "/api/v1/users/me/change-password"


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "path"), [("POST", CHANGE_PASSWORD), ("PUT", "/api/v1/users/me/password")])
async def test_change_password_guesses_are_limited_per_ip_and_per_user(
    make_settings, open_client, register, method, path
) -> None:
    settings = make_settings(rate_limit_auth_per_minute=5)
    async with open_client(settings, client_ip="198.51.100.1") as setup:
        victim = await register(setup)
    guess = {"currentPassword": "not-the-password", "newPassword": "a-brand-new-secret-9"}

    # A stolen access token, one address: the IP's auth budget runs out.
    async with open_client(settings, client_ip="203.0.113.1") as one_ip:
        same_ip = [
            (await one_ip.request(method, path, json=guess, headers=victim.headers)).status_code for _ in range(7)
        ]
    # The same token from a fresh address per guess: the user's budget has run out already.
    spread = []
    for i in range(3):
        async with open_client(settings, client_ip=f"192.0.2.{i + 10}") as fresh:
            spread.append((await fresh.request(method, path, json=guess, headers=victim.headers)).status_code)

    assert same_ip == [403] * 5 + [429] * 2
    assert spread == [429] * 3


@pytest.mark.anyio
async def test_login_guesses_against_one_account_are_limited_across_addresses(
    make_settings, open_client, register
) -> None:
    settings = make_settings(rate_limit_auth_per_minute=4)
    async with open_client(settings, client_ip="198.51.100.2") as setup:
        victim, bystander = await register(setup), await register(setup)

    async def login(ip: str, email: str, password: str) -> int:
        async with open_client(settings, client_ip=ip) as client:
            return (await client.post(LOGIN, json={"email": email, "password": password})).status_code

    guesses = [await login(f"192.0.2.{i + 40}", victim.email.upper(), f"guess-number-{i}") for i in range(6)]
    # Another account is not affected by the victim's budget.
    other = await login("192.0.2.90", bystander.email, bystander.password)

    assert guesses == [401] * 4 + [429] * 2
    assert other == 200


CONCURRENT_REQUESTS = 200


@pytest.mark.anyio
async def test_under_concurrency_every_request_is_counted_in_redis_and_none_per_process(
    make_settings, open_client, redis_prefix, caplog
) -> None:
    """The load test's finding: at 64 concurrent connections the limiter's Redis pool ran out, and the
    limiter switched to counting per process, which multiplies every limit by the processes. A full
    pool must make a request wait for a connection instead."""
    import redis.asyncio as aioredis

    from tests.app.conftest import REDIS_URL

    caplog.set_level("WARNING", logger="chatvista_api.ratelimit")
    async with open_client(make_settings()) as client:
        responses = await asyncio.gather(*(client.get("/api/v1/meetings") for _ in range(CONCURRENT_REQUESTS)))
        ready = await client.get("/ready")
    shared = aioredis.from_url(REDIS_URL)
    try:
        counted = int(await shared.get(f"{redis_prefix}rl:api:127.0.0.1") or 0)
    finally:
        await shared.aclose()

    assert _statuses(responses) == [401] * CONCURRENT_REQUESTS
    assert "per process" not in caplog.text
    assert ready.json()["rateLimit"] == "redis"
    assert counted == CONCURRENT_REQUESTS


@pytest.mark.anyio
async def test_a_full_pool_makes_a_hit_wait_for_a_connection_and_past_the_bound_refuses_it_as_busy(
    redis_prefix,
) -> None:
    """Waiting is brief and bounded: a connection freed within the bound serves the hit; none freed, and
    the hit is refused as busy (the request gets 503), while the limiter keeps counting in Redis."""
    from chatvista_api.ratelimit import REDIS_CONNECTIONS, REDIS_WAIT_SECONDS, RateLimiter, shared_redis
    from chatvista_api.redis_pool import RedisBusy
    from tests.app.conftest import REDIS_URL

    redis = shared_redis(REDIS_URL)
    limiter = RateLimiter(redis, key_prefix=redis_prefix)
    pool = redis.connection_pool
    held = [await pool.get_connection() for _ in range(REDIS_CONNECTIONS)]
    try:
        waiting = asyncio.create_task(limiter.hit("api", "client", 10))
        await asyncio.sleep(REDIS_WAIT_SECONDS / 5)
        assert not waiting.done(), "a hit with every connection busy waits for one"
        await pool.release(held.pop())
        assert (await waiting).allowed

        held.append(await pool.get_connection())
        started = asyncio.get_running_loop().time()
        with pytest.raises(RedisBusy):
            await limiter.hit("api", "client", 10)
        waited = asyncio.get_running_loop().time() - started
        assert REDIS_WAIT_SECONDS * 0.9 <= waited < REDIS_WAIT_SECONDS + 0.5
        assert limiter.backend == "redis"
    finally:
        for connection in held:
            await pool.release(connection)
        await redis.aclose()
    # The hit that got a connection was counted in Redis; the refused one nowhere.
    check = shared_redis(REDIS_URL)
    try:
        assert int(await check.get(f"{redis_prefix}rl:api:client")) == 1
    finally:
        await check.aclose()


@pytest.mark.anyio
async def test_a_request_that_finds_no_redis_connection_in_time_gets_503_and_ready_says_busy(make_settings) -> None:
    """Past the bound the request is refused, saying when to retry, and the process keeps counting in
    Redis: /ready reports the process busy, not Redis down, and the limiter stays shared."""
    from chatvista_api.main import create_app
    from chatvista_api.ratelimit import REDIS_CONNECTIONS

    app = create_app(make_settings())
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        pool = resources.redis.connection_pool
        held = [await pool.get_connection() for _ in range(REDIS_CONNECTIONS)]
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                busy = await client.get("/api/v1/meetings")
                ready = await client.get("/ready")
        finally:
            for connection in held:
                await pool.release(connection)
        assert resources.limiter.backend == "redis"

    assert busy.status_code == 503
    assert busy.json()["code"] == "overloaded" and busy.headers["retry-after"] == "1"
    assert ready.status_code == 200
    assert ready.json()["checks"]["redis"] == "busy" and ready.json()["rateLimit"] == "redis"


@pytest.mark.anyio
async def test_signaling_handshakes_the_limiter_cannot_count_are_refused_as_overloaded(
    make_settings, free_port
) -> None:
    """Signaling counts its handshakes with the same limiter: one it could not count in time is refused
    (503 ``overloaded`` as the WebSocket handshake's answer), not let in uncounted."""
    from chatvista_api.ratelimit import REDIS_CONNECTIONS
    from tests.app.signaling.cluster import WAIT, serving

    async with serving(make_settings(), free_port) as (base, app):
        pool = app.state.resources.redis.connection_pool
        held = [await pool.get_connection() for _ in range(REDIS_CONNECTIONS)]
        try:
            async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
                handshake = await http.get("/socket.io/", params={"EIO": "4", "transport": "websocket"})
        finally:
            for connection in held:
                await pool.release(connection)
    assert handshake.status_code == 503, handshake.text
    assert handshake.json()["code"] == "overloaded" and handshake.headers["retry-after"] == "1"
