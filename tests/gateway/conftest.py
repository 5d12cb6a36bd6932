"""Gateways of several sizes, and the rendered policies, for the gateway tests."""

from __future__ import annotations

import pytest

from batchgw.gateway.apis import ApiSpec, build_apis
from batchgw.gateway.spec import GatewaySpec, RegionSpec

SIZES = (1, 2, 7, 12)
LOCATIONS = (
    "eastus2",
    "westus3",
    "swedencentral",
    "francecentral",
    "japaneast",
    "australiaeast",
    "canadaeast",
    "uksouth",
    "northcentralus",
    "southindia",
    "norwayeast",
    "switzerlandnorth",
)


def make_gateway(size: int, *, ttl: int = 2592000) -> GatewaySpec:
    regions = tuple(
        RegionSpec(
            name=LOCATIONS[i],
            backend_id=f"foundry-acct{i}",
            weight=1 + i % 3,
            priority=1 + i // 5,
            url=f"https://acct{i}.openai.azure.com/openai/v1",
        )
        for i in range(size)
    )
    return GatewaySpec(regions=regions, pool_backend_id="foundry-pool", affinity_ttl_seconds=ttl)


_CACHE: dict[int, tuple[ApiSpec, ...]] = {}


def apis_for(size: int) -> tuple[ApiSpec, ...]:
    if size not in _CACHE:
        _CACHE[size] = build_apis(make_gateway(size))
    return _CACHE[size]


POLICY_CASES = [
    pytest.param(size, index, id=f"{size}r-{api_id}")
    for size in SIZES
    for index, api_id in enumerate(("openai", "openai-sticky", "openai-realtime"))
]
