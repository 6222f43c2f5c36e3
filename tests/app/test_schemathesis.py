"""Property-based conformance: schemathesis generates requests from /api/v1/openapi.json against a
real uvicorn server on real PostgreSQL and Redis. Every response must be a non-5xx that matches the
documented status codes, content types and schemas; invalid requests must be rejected."""

from __future__ import annotations

import functools

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

# Operations with a parameter get this many cases per mode (fewer when their inputs run out).
POSITIVE_EXAMPLES = 40
NEGATIVE_EXAMPLES = 15
MINIMUM_CASES = 500


def _login(base_url: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['accessToken']}"}


def run_cases(strategy, examples: int, base_url: str, auth_headers) -> int:
    """Run up to ``examples`` generated cases of one operation; return how many ran."""
    ran = 0

    @settings(
        max_examples=examples, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(case=strategy)
    def check(case) -> None:
        nonlocal ran
        ran += 1
        # All default checks except positive_data_acceptance: some schema-valid inputs are refused by
        # rules no JSON Schema can state (e.g. "12345678" is a common password).
        case.call_and_validate(base_url=base_url, headers=auth_headers(), excluded_checks=[positive_data_acceptance])

    check()
    return ran


def test_generated_requests_get_no_server_errors_and_schema_conforming_responses(serve, server_env) -> None:
    base_url = serve(server_env)
    email, password = "fuzz-owner@example.com", "fuzzing-is-fun-42"
    registered = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"email": email, "password": password, "firstName": "Fuzz", "lastName": "Owner"},
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    headers = {"Authorization": f"Bearer {registered.json()['accessToken']}"}
    # A real meeting, so that some generated calls reach past the 404s.
    meeting = httpx.post(f"{base_url}/api/v1/meetings", json={"title": "fuzz"}, headers=headers, timeout=30).json()

    document = httpx.get(f"{base_url}/api/v1/openapi.json", timeout=30).json()
    # Only an operation with parameters or a body has an input to make invalid.
    has_inputs = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if spec.get("parameters") or spec.get("requestBody")
    }
    schema = schemathesis.openapi.from_dict(document)
    cases = 0
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        path_parameters = {"meeting_id": meeting["id"]} if "{meeting_id}" in operation.path else None
        modes = [(GenerationMode.POSITIVE, POSITIVE_EXAMPLES)]
        if (operation.method.upper(), operation.path) in has_inputs:
            modes.append((GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES))
        for mode, examples in modes:
            strategy = operation.as_strategy(generation_mode=mode)
            if path_parameters and mode is GenerationMode.POSITIVE:
                strategy = strategy | operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            # Logging out would end the session every other case uses: give each such case its own.
            if operation.path.endswith("/logout"):
                auth = functools.partial(_login, base_url, email, password)
            else:
                auth = functools.partial(dict, headers)
            cases += run_cases(strategy, examples, base_url, auth)

    assert operations >= 18, f"only {operations} operations in the OpenAPI document"
    assert cases >= MINIMUM_CASES, f"only {cases} generated cases ran; raise the example counts"
