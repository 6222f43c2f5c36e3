"""The DO and Vercel clients over a real socket: retries honour Retry-After, pagination, clear errors."""

from __future__ import annotations

import time

import pytest

from harness.ports import free_port
from infra.cloud.digitalocean import DigitalOceanClient
from infra.cloud.http import ApiError, JsonApi, RetryPolicy, parse_retry_after
from infra.cloud.vercel import VercelClient
from tests.fakes.cloud import FakeCloud


class Sleeps(list):
    """Records how long the client asked to wait, without waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _do(cloud: FakeCloud, sleeps: Sleeps, token: str | None = None) -> DigitalOceanClient:
    client = DigitalOceanClient(token or cloud.do_token, base_url=cloud.base_url)
    client.api._sleep = sleeps
    return client


def test_a_429_is_retried_after_what_retry_after_asks(fake_cloud: FakeCloud) -> None:
    fake_cloud.fail("GET", f"/v2/apps/{fake_cloud.app_id}", 429, times=2, retry_after="7")
    sleeps = Sleeps()

    with _do(fake_cloud, sleeps) as do:
        app = do.get_app(fake_cloud.app_id)

    assert app["id"] == fake_cloud.app_id
    assert sleeps == [7.0, 7.0]
    assert len(fake_cloud.calls("GET", f"/v2/apps/{fake_cloud.app_id}")) == 3


def test_5xx_without_retry_after_backs_off_exponentially_then_gives_up(fake_cloud: FakeCloud) -> None:
    fake_cloud.fail("GET", f"/v2/databases/{fake_cloud.database_id}", 503, times=None)
    sleeps = Sleeps()

    with _do(fake_cloud, sleeps) as do, pytest.raises(ApiError) as raised:
        do.get_database(fake_cloud.database_id)

    assert sleeps == [0.5, 1.0, 2.0, 4.0]
    assert raised.value.status == 503 and "after 5 attempts" in raised.value.message


def test_a_post_is_not_repeated_after_a_500_but_is_after_a_429(fake_cloud: FakeCloud) -> None:
    sleeps = Sleeps()
    path = f"/v2/apps/{fake_cloud.app_id}/deployments"
    with _do(fake_cloud, sleeps) as do:
        fake_cloud.fail("POST", path, 500)
        with pytest.raises(ApiError):
            do.create_deployment(fake_cloud.app_id)
        assert len(fake_cloud.calls("POST", path)) == 1

        fake_cloud.fail("POST", path, 429, retry_after="1")
        do.create_deployment(fake_cloud.app_id)
    assert len(fake_cloud.calls("POST", path)) == 3
    assert sleeps == [1.0]


@pytest.mark.parametrize(("header", "service"), [("RateLimit-Reset", "do"), ("X-RateLimit-Reset", "vercel")])
def test_a_429_without_retry_after_waits_until_the_rate_limit_resets(
    fake_cloud: FakeCloud, header: str, service: str
) -> None:
    sleeps = Sleeps()
    reset = str(int(time.time()) + 20)
    if service == "do":
        fake_cloud.fail("GET", f"/v2/apps/{fake_cloud.app_id}", 429, headers={header: reset})
        with _do(fake_cloud, sleeps) as do:
            do.get_app(fake_cloud.app_id)
    else:
        fake_cloud.fail("GET", f"/v9/projects/{fake_cloud.project_id}/domains", 429, headers={header: reset})
        with VercelClient(fake_cloud.vercel_token, team_id=fake_cloud.team_id, base_url=fake_cloud.base_url) as vercel:
            vercel.api._sleep = sleeps
            vercel.project_domains(fake_cloud.project_id)

    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_retry_after_as_an_http_date_and_the_cap() -> None:
    in_ten = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 10))
    assert 8 <= parse_retry_after(in_ten) <= 10
    assert parse_retry_after("soon") is None
    assert RetryPolicy(max_retry_after=60).delay(1, "3600") == 60


def test_a_bad_do_token_names_the_variable_and_is_never_echoed(fake_cloud: FakeCloud) -> None:
    with _do(fake_cloud, Sleeps(), token="dop_v1_wrong") as do, pytest.raises(ApiError) as raised:
        do.get_app(fake_cloud.app_id)

    assert raised.value.status == 401
    assert "DIGITALOCEAN_TOKEN" in raised.value.message
    assert "dop_v1_wrong" not in raised.value.message + (raised.value.hint or "")


def test_a_wrong_app_id_is_a_404_with_a_hint(fake_cloud: FakeCloud) -> None:
    with _do(fake_cloud, Sleeps()) as do, pytest.raises(ApiError) as raised:
        do.get_app("4a4d2e1c-0000-4000-8000-000000000000")

    assert raised.value.status == 404
    assert "appId" in (raised.value.hint or "")


def test_deployments_are_read_across_pages(fake_cloud: FakeCloud) -> None:
    sleeps = Sleeps()
    with _do(fake_cloud, sleeps) as do:
        for _ in range(4):
            do.create_deployment(fake_cloud.app_id)
        listed = list(do.list_deployments(fake_cloud.app_id, per_page=2))

    assert [d["id"] for d in listed] == [d["id"] for d in reversed(fake_cloud.deployments[fake_cloud.app_id])]
    assert len(fake_cloud.calls("GET", f"/v2/apps/{fake_cloud.app_id}/deployments")) == 3


def test_pagination_links_never_send_the_token_to_another_host() -> None:
    api = JsonApi(service="X", base_url="https://api.example.com", token="t", token_env="X_TOKEN")
    try:
        assert api.next_path("https://evil.example.net/v2/apps?page=2") == "/v2/apps?page=2"
        assert api.next_path(None) is None
    finally:
        api.close()


def test_vercel_domains_are_read_across_pages_with_the_team(fake_cloud: FakeCloud) -> None:
    for i in range(150):
        fake_cloud.add_domain(f"d{i}.chatvista.example.com")

    with VercelClient(fake_cloud.vercel_token, team_id=fake_cloud.team_id, base_url=fake_cloud.base_url) as vercel:
        domains = vercel.project_domains(fake_cloud.project_id)

    assert sorted(d["name"] for d in domains) == sorted(
        d["name"] for d in fake_cloud.projects[fake_cloud.project_id]["domains"]
    )
    calls = fake_cloud.calls("GET", f"/v9/projects/{fake_cloud.project_id}/domains")
    assert len(calls) == 2
    assert all(call.query["teamId"] == [fake_cloud.team_id] for call in calls)
    assert "until" in calls[1].query


def test_a_vercel_project_outside_the_team_is_a_404(fake_cloud: FakeCloud) -> None:
    with (
        VercelClient(fake_cloud.vercel_token, base_url=fake_cloud.base_url) as vercel,
        pytest.raises(ApiError) as raised,
    ):
        vercel.latest_production_deployment(fake_cloud.project_id)

    assert raised.value.status == 404
    assert "personal account" in (raised.value.hint or "")


def test_a_bad_vercel_token_is_named(fake_cloud: FakeCloud) -> None:
    with VercelClient("nope", base_url=fake_cloud.base_url) as vercel, pytest.raises(ApiError) as raised:
        vercel.project_domains(fake_cloud.project_id)

    assert raised.value.status == 403 and "VERCEL_API_TOKEN" in raised.value.message


def test_an_unreachable_api_is_retried_for_reads_then_reported() -> None:
    port = free_port()
    sleeps = Sleeps()
    client = DigitalOceanClient("t", base_url=f"http://127.0.0.1:{port}")
    client.api._sleep = sleeps

    with client, pytest.raises(ApiError) as raised:
        client.get_app("x")

    assert raised.value.status == 0 and "cannot reach DigitalOcean" in raised.value.message
    assert len(sleeps) == 4


def test_every_call_has_a_timeout(fake_cloud: FakeCloud) -> None:
    with _do(fake_cloud, Sleeps()) as do:
        timeout = do.api._http.timeout
    assert timeout.connect == 10.0 and timeout.read == 30.0
