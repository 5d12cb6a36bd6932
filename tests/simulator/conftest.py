"""Fixtures for the policy simulator: gateway specs and one private redis-server per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from batchgw.gateway.spec import GatewaySpec, RegionSpec
from batchgw.simulator.redis_server import RedisServer


def make_gateway(regions: int = 2, ttl: int = 3600) -> GatewaySpec:
    names = ["eastus2", "westus3", "swedencentral"][:regions]
    return GatewaySpec(
        regions=tuple(
            RegionSpec(
                name,
                f"foundry-{name}",
                weight=1 + i,
                priority=1,
                url=f"https://acct-{name}.openai.azure.com/openai/v1",
            )
            for i, name in enumerate(names)
        ),
        pool_backend_id="foundry-pool",
        affinity_ttl_seconds=ttl,
    )


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail(
            "redis-server is not installed: apt-get install redis-server (scripts/setup does)"
        )
    server = RedisServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url
