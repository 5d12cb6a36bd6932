"""What the gateway policies are rendered from: the regions and the affinity TTL. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REGION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_BACKEND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
# A backend url is pasted into C# string literals and XML: refuse anything that would need escaping.
_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")


@dataclass(frozen=True, slots=True)
class RegionSpec:
    """One foundry account as the gateway sees it."""

    name: str  # client-visible region name, [a-z0-9-]
    backend_id: str  # the APIM Single backend id for this region, used as-is
    weight: int
    priority: int
    # The Single backend's url (`<endpoint>openai/v1`). Policies need it for send-request
    # (owner lookups, merged lists), which takes a URL, not a backend id.
    url: str = ""


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    regions: tuple[RegionSpec, ...]  # 1..N, in config order
    pool_backend_id: str
    affinity_ttl_seconds: int


def check_gateway(gateway: GatewaySpec) -> None:
    """Raise ValueError when the spec can't be rendered into safe policy text."""
    if not gateway.regions:
        raise ValueError("the gateway needs at least one region")
    names = [r.name for r in gateway.regions]
    ids = [r.backend_id for r in gateway.regions]
    if len(set(names)) != len(names):
        raise ValueError(f"region names repeat: {names}")
    if len(set(ids)) != len(ids) or gateway.pool_backend_id in ids:
        raise ValueError(f"backend ids repeat: {[*ids, gateway.pool_backend_id]}")
    for region in gateway.regions:
        if not _REGION_NAME.match(region.name):
            raise ValueError(f"region name `{region.name}` must match [a-z0-9-]")
        if not _BACKEND_ID.match(region.backend_id):
            raise ValueError(f"backend id `{region.backend_id}` has unexpected characters")
        if not _URL.match(region.url.rstrip("/")):
            raise ValueError(
                f"region `{region.name}` needs its backend url (https://host/openai/v1), "
                f"got `{region.url}`"
            )
        if region.weight < 0 or region.priority < 1:
            raise ValueError(f"region `{region.name}`: weight must be >= 0 and priority >= 1")
    if not _BACKEND_ID.match(gateway.pool_backend_id):
        raise ValueError(f"backend id `{gateway.pool_backend_id}` has unexpected characters")
    if gateway.affinity_ttl_seconds < 1:
        raise ValueError("affinity_ttl_seconds must be at least 1")
