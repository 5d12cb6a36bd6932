"""Desired state: what config plus the discovered foundries say should exist. Pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from batchgw import naming
from batchgw.config import Settings
from batchgw.gateway.apis import ApiSpec, build_apis
from batchgw.gateway.spec import GatewaySpec, RegionSpec
from batchgw.plan import UNKNOWN, Unknown

MaybeStr = str | Unknown


@dataclass(frozen=True, slots=True)
class Foundry:
    """A foundry account as read from Azure (or from config hints, offline)."""

    name: str
    resource_group: str
    subscription_id: str
    id: str
    location: MaybeStr
    endpoint: MaybeStr
    weight: int
    priority: int


@dataclass(frozen=True, slots=True)
class ResourceGroupSpec:
    id: str
    name: str
    location: str
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class RedisSpec:
    id: str
    name: str
    kind: str
    location: str
    sku: str
    family: str | None
    capacity: int | None
    tags: dict[str, str]

    @property
    def database_id(self) -> str:
        return f"{self.id}/databases/{naming.REDIS_DATABASE}"

    @property
    def port(self) -> int:
        return 10000 if self.kind == "managed" else 6380


@dataclass(frozen=True, slots=True)
class ApimSpec:
    id: str
    name: str
    location: str
    sku: str
    capacity: int
    publisher_name: str
    publisher_email: str
    tags: dict[str, str]

    @property
    def gateway_url(self) -> str:
        return f"https://{self.name}.azure-api.net"


@dataclass(frozen=True, slots=True)
class PoolMember:
    backend_id: str
    weight: int
    priority: int


@dataclass(frozen=True, slots=True)
class BackendSpec:
    backend_id: str
    id: str
    kind: str  # "Single" or "Pool"
    region: str
    url: MaybeStr = ""
    foundry_id: str = ""
    members: tuple[PoolMember, ...] = ()


@dataclass(frozen=True, slots=True)
class CacheSpec:
    cache_id: str
    id: str
    redis_id: str
    description: str


@dataclass(frozen=True, slots=True)
class RoleSpec:
    foundry: str
    scope: str
    role: str
    role_guid: str | None  # None: look the role name up in Azure


@dataclass(frozen=True, slots=True)
class Desired:
    environment: str
    subscription_id: str
    resource_group: ResourceGroupSpec
    redis: RedisSpec
    apim: ApimSpec
    foundries: tuple[Foundry, ...]
    backends: tuple[BackendSpec, ...]
    gateway: GatewaySpec | None  # None while a region is unknown (offline without hints)
    apis: tuple[ApiSpec, ...] | None
    cache: CacheSpec
    roles: tuple[RoleSpec, ...]


def region_names(foundries: tuple[Foundry, ...]) -> dict[str, MaybeStr]:
    """Client-visible region per foundry id: its location, or its name where locations repeat."""
    counts = Counter(f.location for f in foundries if isinstance(f.location, str))
    names: dict[str, MaybeStr] = {}
    for foundry in foundries:
        if isinstance(foundry.location, Unknown):
            names[foundry.id] = UNKNOWN
        elif counts[foundry.location] > 1:
            names[foundry.id] = naming.region_label(foundry.name)
        else:
            names[foundry.id] = naming.region_label(foundry.location)
    return names


def build_desired(settings: Settings, foundries: tuple[Foundry, ...]) -> Desired:
    sub, rg, env = settings.subscription_id, settings.resource_group, settings.environment
    tags = naming.tags(env)
    apim_name = naming.apim_name(env, sub, rg)
    apim_id = naming.apim_id(sub, rg, apim_name)
    redis_name = naming.redis_name(env, sub, rg)
    redis_id = naming.redis_id(sub, rg, redis_name, settings.redis.kind)
    regions = region_names(foundries)
    backends = _backends(apim_id, foundries, regions)
    gateway = _gateway(foundries, regions, settings.affinity.ttl_seconds)
    return Desired(
        environment=env,
        subscription_id=sub,
        resource_group=ResourceGroupSpec(
            id=naming.resource_group_id(sub, rg), name=rg, location=settings.location, tags=tags
        ),
        redis=RedisSpec(
            id=redis_id,
            name=redis_name,
            kind=settings.redis.kind,
            location=settings.location,
            sku=settings.redis.sku or "",
            family=settings.redis.family,
            capacity=settings.redis.capacity,
            tags=tags,
        ),
        apim=ApimSpec(
            id=apim_id,
            name=apim_name,
            location=settings.location,
            sku=settings.apim.sku,
            capacity=settings.apim.capacity,
            publisher_name=settings.publisher_name,
            publisher_email=settings.publisher_email,
            tags=tags,
        ),
        foundries=foundries,
        backends=backends,
        gateway=gateway,
        apis=None if gateway is None else build_apis(gateway),
        cache=CacheSpec(
            cache_id=naming.CACHE_ID,
            id=f"{apim_id}/caches/{naming.CACHE_ID}",
            redis_id=redis_id,
            description=f"batchgw affinity cache ({env})",
        ),
        roles=tuple(
            RoleSpec(
                foundry=f.name,
                scope=f.id,
                role=settings.access.role,
                role_guid=naming.known_role_guid(settings.access.role),
            )
            for f in foundries
        ),
    )


def _backends(
    apim_id: str, foundries: tuple[Foundry, ...], regions: dict[str, MaybeStr]
) -> tuple[BackendSpec, ...]:
    singles: list[BackendSpec] = []
    for foundry in foundries:
        region = regions[foundry.id]
        # Keyed by account name, not region: adding a second account in the same location
        # renames that region for clients but must not replace the existing backend.
        backend_id = naming.foundry_backend_id(foundry.name)
        url: MaybeStr = (
            foundry.endpoint + "openai/v1" if isinstance(foundry.endpoint, str) else UNKNOWN
        )
        singles.append(
            BackendSpec(
                backend_id=backend_id,
                id=f"{apim_id}/backends/{backend_id}",
                kind="Single",
                region=region if isinstance(region, str) else "",
                url=url,
                foundry_id=foundry.id,
            )
        )
    pool = BackendSpec(
        backend_id=naming.POOL_BACKEND_ID,
        id=f"{apim_id}/backends/{naming.POOL_BACKEND_ID}",
        kind="Pool",
        region="",
        members=tuple(
            PoolMember(backend_id=b.backend_id, weight=f.weight, priority=f.priority)
            for b, f in zip(singles, foundries, strict=True)
        ),
    )
    return (*singles, pool)


def _gateway(
    foundries: tuple[Foundry, ...], regions: dict[str, MaybeStr], ttl_seconds: int
) -> GatewaySpec | None:
    specs: list[RegionSpec] = []
    for foundry in foundries:
        region = regions[foundry.id]
        if not isinstance(region, str) or not isinstance(foundry.endpoint, str):
            return None
        specs.append(
            RegionSpec(
                name=region,
                backend_id=naming.foundry_backend_id(foundry.name),
                weight=foundry.weight,
                priority=foundry.priority,
                url=foundry.endpoint + "openai/v1",
            )
        )
    return GatewaySpec(
        regions=tuple(specs),
        pool_backend_id=naming.POOL_BACKEND_ID,
        affinity_ttl_seconds=ttl_seconds,
    )


def offline_foundries(settings: Settings) -> tuple[Foundry, ...]:
    """Foundries as config hints describe them, for `plan --offline` and `simulate`."""
    result = []
    for entry in settings.foundries:
        sub = entry.subscription_id or settings.subscription_id
        result.append(
            Foundry(
                name=entry.name,
                resource_group=entry.resource_group,
                subscription_id=sub,
                id=naming.foundry_id(sub, entry.resource_group, entry.name),
                location=entry.region or UNKNOWN,
                endpoint=entry.endpoint or UNKNOWN,
                weight=entry.weight,
                priority=entry.priority,
            )
        )
    return tuple(result)


def simulation_gateway(settings: Settings) -> GatewaySpec:
    """The gateway for `simulate`: region hints where given, else each account's name."""
    regions = []
    used: set[str] = set()
    for entry in settings.foundries:
        name = naming.region_label(entry.region or entry.name)
        if name in used:
            name = naming.region_label(entry.name)
        used.add(name)
        regions.append(
            RegionSpec(
                name=name,
                backend_id=naming.foundry_backend_id(entry.name),
                weight=entry.weight,
                priority=entry.priority,
                # The simulator answers for these hosts with its fake regions.
                url=(entry.endpoint or f"https://{entry.name.lower()}.openai.azure.com/")
                + "openai/v1",
            )
        )
    return GatewaySpec(
        regions=tuple(regions),
        pool_backend_id=naming.POOL_BACKEND_ID,
        affinity_ttl_seconds=settings.affinity.ttl_seconds,
    )
