"""Login timing: a wrong password for a real account vs an unknown email, which must cost the same
(both pay one argon2id verification), so that response times do not reveal who has an account.

    uv run python bench/api_login_timing.py [--rounds 60]

Needs the local PostgreSQL (a throwaway database is created and dropped). Prints the median and the
10th/90th percentiles of each, in milliseconds, and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from chatvista_api.main import create_app
from chatvista_api.settings import Settings
from harness.postgres import throwaway_database  # noqa: E402


async def measure(url: str, rounds: int) -> dict[str, list[float]]:
    settings = Settings(database_url=url, jwt_secret="t" * 64, rate_limit_enabled=False)
    app = create_app(settings)
    timings: dict[str, list[float]] = {"wrong password": [], "unknown email": []}
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            await client.post(
                "/api/v1/auth/register",
                json={
                    "email": "timing@example.com",
                    "password": "timing-password-1",
                    "firstName": "T",
                    "lastName": "T",
                },
            )
            bodies = {
                "wrong password": {"email": "timing@example.com", "password": "not-the-password"},
                "unknown email": {"email": "nobody-here@example.com", "password": "not-the-password"},
            }
            for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
                for name, body in bodies.items():
                    started = time.perf_counter()
                    response = await client.post("/api/v1/auth/login", json=body)
                    timings[name].append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 401, response.text
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    with throwaway_database(migrated=True, prefix="cv_timing") as url:
        timings = asyncio.run(measure(url, args.rounds))
    medians = {}
    for name, values in timings.items():
        deciles = statistics.quantiles(values, n=10)
        medians[name] = statistics.median(values)
        print(
            f"{name:<15} median {medians[name]:6.1f} ms   p10 {deciles[0]:6.1f}   p90 {deciles[-1]:6.1f}   (n={len(values)})"
        )
    print(f"unknown/wrong median ratio: {medians['unknown email'] / medians['wrong password']:.2f}")


if __name__ == "__main__":
    main()
