"""ensure_redis: Azure Managed Redis (cluster + `default` database) or classic Azure Cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from batchgw import naming
from batchgw.errors import BlockedChangeError
from batchgw.model import Desired, RedisSpec
from batchgw.plan import Action, Change, Value, created, diff_fields
from batchgw.steps.base import SETTLED, Ctx, Event, Known, get_or_none, guarded, settle

NAME = "ensure_redis"
MANAGED_TYPE = "Microsoft.Cache/redisEnterprise"
DATABASE_TYPE = "Microsoft.Cache/redisEnterprise/databases"
CLASSIC_TYPE = "Microsoft.Cache/redis"
TLS = "1.2"
# Every affinity record has a TTL, so when memory runs out the oldest records go first and the
# gateway's miss path finds their region again.
EVICTION = "VolatileLRU"
CLUSTERING = "EnterpriseCluster"


@dataclass(frozen=True, slots=True)
class RedisObserved:
    resource: dict[str, Value] | None
    database: dict[str, Value] | None
    tags: dict[str, str] | None
    host: str
    state: str = ""  # the least settled provisioning state of the cluster and its database
    cluster_state: str = ""
    database_state: str = ""


def cluster_fields(spec: RedisSpec) -> dict[str, Value]:
    if spec.kind == "managed":
        return {
            "location": spec.location,
            "sku.name": spec.sku,
            "minimumTlsVersion": TLS,
            # APIM reaches the cache over its public endpoint (no VNet integration here).
            "publicNetworkAccess": "Enabled",
            "tags": spec.tags,
        }
    return {
        "location": spec.location,
        "sku.name": spec.sku,
        "sku.family": spec.family,
        "sku.capacity": spec.capacity,
        "enableNonSslPort": False,
        "minimumTlsVersion": TLS,
        "disableAccessKeyAuthentication": False,
        "tags": spec.tags,
    }


def database_fields() -> dict[str, Value]:
    return {
        "clientProtocol": "Encrypted",
        "port": 10000,
        "clusteringPolicy": CLUSTERING,
        "evictionPolicy": EVICTION,
        "accessKeysAuthentication": "Enabled",
    }


FOLDED = (
    "location",
    "sku.name",
    "clientProtocol",
    "clusteringPolicy",
    "evictionPolicy",
    "publicNetworkAccess",
    "accessKeysAuthentication",
)
IMMUTABLE = {
    "location": "delete the cache or set `location` back",
    "clusteringPolicy": "the clustering policy is fixed at creation; delete the cache to change it",
    "port": "the port is fixed at creation",
}


class RedisStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ("resource_group",)

    def read(self, ctx: Ctx, known: Known) -> RedisObserved:
        spec = ctx.desired.redis
        rg = ctx.desired.resource_group.name
        if spec.kind == "managed":
            ops = ctx.clients.redis_enterprise
            get_cluster = partial(get_or_none, partial(ops.redis_enterprise.get, rg, spec.name))
            get_database = partial(
                get_or_none, partial(ops.databases.get, rg, spec.name, naming.REDIS_DATABASE)
            )
            # Both at once: a plan's depth stays one round trip.
            with ThreadPoolExecutor(max_workers=2) as pool:
                cluster_f = pool.submit(guarded, NAME, spec.id, "reading", get_cluster)
                database_f = pool.submit(guarded, NAME, spec.database_id, "reading", get_database)
                cluster, database = cluster_f.result(), database_f.result()
            if cluster is None:
                return RedisObserved(None, None, None, "")
            return RedisObserved(
                resource={
                    "location": cluster.location,
                    "sku.name": cluster.sku.name,
                    "minimumTlsVersion": cluster.minimum_tls_version,
                    "publicNetworkAccess": cluster.public_network_access,
                    "tags": dict(cluster.tags or {}),
                },
                database=None
                if database is None
                else {
                    "clientProtocol": database.client_protocol,
                    "port": database.port,
                    "clusteringPolicy": database.clustering_policy,
                    "evictionPolicy": database.eviction_policy,
                    "accessKeysAuthentication": database.access_keys_authentication,
                },
                tags=dict(cluster.tags or {}),
                host=cluster.host_name or "",
                state=_least_settled(
                    cluster.provisioning_state, database.provisioning_state if database else None
                ),
                cluster_state=str(cluster.provisioning_state or ""),
                database_state=str(database.provisioning_state or "") if database else "",
            )
        classic = guarded(
            NAME,
            spec.id,
            "reading",
            lambda: get_or_none(lambda: ctx.clients.redis.redis.get(rg, spec.name)),
        )
        if classic is None:
            return RedisObserved(None, None, None, "")
        return RedisObserved(
            resource={
                "location": classic.location,
                "sku.name": classic.sku.name,
                "sku.family": classic.sku.family,
                "sku.capacity": classic.sku.capacity,
                "enableNonSslPort": bool(classic.enable_non_ssl_port),
                "minimumTlsVersion": classic.minimum_tls_version,
                "disableAccessKeyAuthentication": bool(classic.disable_access_key_authentication),
                "tags": dict(classic.tags or {}),
            },
            database=None,
            tags=dict(classic.tags or {}),
            host=classic.host_name or "",
            state=str(classic.provisioning_state or ""),
            cluster_state=str(classic.provisioning_state or ""),
        )

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, RedisObserved)
        spec = desired.redis
        kind = MANAGED_TYPE if spec.kind == "managed" else CLASSIC_TYPE
        changes: list[Change] = []
        if observed.resource is None:
            changes.append(
                Change(NAME, Action.CREATE, kind, spec.name, spec.id, created(cluster_fields(spec)))
            )
        else:
            fields = diff_fields(cluster_fields(spec), observed.resource, fold_case=FOLDED)
            _block_immutable(spec.name, fields)
            if observed.cluster_state.lower() == "failed":
                # A failed create or update is repaired by sending the desired state again.
                fields["provisioningState"] = ("Failed", "Succeeded")
            if fields:
                changes.append(Change(NAME, Action.UPDATE, kind, spec.name, spec.id, fields))
        if spec.kind == "managed":
            name = f"{spec.name}/default"
            if observed.database is None:
                changes.append(
                    Change(
                        NAME,
                        Action.CREATE,
                        DATABASE_TYPE,
                        name,
                        spec.database_id,
                        created(database_fields()),
                    )
                )
            else:
                fields = diff_fields(database_fields(), observed.database, fold_case=FOLDED)
                _block_immutable(name, fields)
                if observed.database_state.lower() == "failed":
                    fields["provisioningState"] = ("Failed", "Succeeded")
                if fields:
                    changes.append(
                        Change(NAME, Action.UPDATE, DATABASE_TYPE, name, spec.database_id, fields)
                    )
        return changes

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        assert isinstance(observed, RedisObserved)
        changes = self.diff(ctx.desired, observed, known)
        spec = ctx.desired.redis
        rg = ctx.desired.resource_group.name
        host = observed.host
        for change in changes:
            verb = "creating" if change.action is Action.CREATE else "updating"
            label = f"redis {change.name}"
            ctx.report(Event("start", NAME, label, verb))
            if change.type == DATABASE_TYPE:
                guarded(NAME, change.id, verb, lambda: _put_database(ctx, rg, spec))
            elif spec.kind == "managed":
                host = guarded(NAME, change.id, verb, lambda: _put_cluster(ctx, rg, spec))
            else:
                put = partial(_put_classic, ctx, rg, spec, change.action)
                host = guarded(NAME, change.id, verb, put)
            ctx.report(Event("done", NAME, label, verb.replace("ing", "ed")))
        return {"redis_host": host}

    def outputs(self, observed: object) -> dict[str, object]:
        assert isinstance(observed, RedisObserved)
        return {"redis_host": observed.host}

    def settle(self, ctx: Ctx, observed: object) -> dict[str, object]:
        """A cache an interrupted deploy left creating: its keys come only once it is ready."""
        assert isinstance(observed, RedisObserved)
        if observed.resource is None or observed.state.lower() in SETTLED | {""}:
            return self.outputs(observed)
        label = f"redis {ctx.desired.redis.name}"
        settle(ctx, NAME, label, lambda: self.read(ctx, {}).state)
        return self.outputs(self.read(ctx, {}))


def _block_immutable(name: str, fields: dict[str, tuple[Value, Value]]) -> None:
    for key, fix in IMMUTABLE.items():
        if key in fields:
            before, after = fields[key]
            raise BlockedChangeError(
                f"Redis `{name}`: `{key}` cannot change ({before} -> {after})", fix
            )


def _put_cluster(ctx: Ctx, rg: str, spec: RedisSpec) -> str:
    from azure.mgmt.redisenterprise.models import Cluster, Sku

    body = Cluster(
        location=spec.location,
        sku=Sku(name=spec.sku),
        minimum_tls_version=TLS,
        public_network_access="Enabled",
        tags=spec.tags,
    )
    result = ctx.clients.redis_enterprise.redis_enterprise.begin_create(
        rg, spec.name, body
    ).result()
    return str(result.host_name or "")


def _put_database(ctx: Ctx, rg: str, spec: RedisSpec) -> None:
    from azure.mgmt.redisenterprise.models import Database

    body = Database(
        client_protocol="Encrypted",
        port=10000,
        clustering_policy=CLUSTERING,
        eviction_policy=EVICTION,
        access_keys_authentication="Enabled",
    )
    ctx.clients.redis_enterprise.databases.begin_create(rg, spec.name, "default", body).result()


def _put_classic(ctx: Ctx, rg: str, spec: RedisSpec, action: Action) -> str:
    from azure.mgmt.redis.models import RedisCreateParameters, RedisUpdateParameters, Sku

    sku = Sku(name=spec.sku, family=spec.family or "C", capacity=spec.capacity or 0)
    options: dict[str, Any] = {
        "sku": sku,
        "enable_non_ssl_port": False,
        "minimum_tls_version": TLS,
        "disable_access_key_authentication": False,
        "tags": spec.tags,
    }
    redis = ctx.clients.redis.redis
    if action is Action.CREATE:
        result = redis.begin_create(
            rg, spec.name, RedisCreateParameters(location=spec.location, **options)
        ).result()
    else:
        result = redis.begin_update(rg, spec.name, RedisUpdateParameters(**options)).result()
    return str(result.host_name or "")


def read_key(ctx: Ctx) -> str:
    """The access key APIM's external cache needs. Returned to the caller only, never shown."""
    spec = ctx.desired.redis
    rg = ctx.desired.resource_group.name
    keys: Any
    if spec.kind == "managed":
        keys = guarded(
            NAME,
            spec.database_id,
            "reading keys of",
            lambda: ctx.clients.redis_enterprise.databases.list_keys(rg, spec.name, "default"),
        )
    else:
        keys = guarded(
            NAME,
            spec.id,
            "reading keys of",
            lambda: ctx.clients.redis.redis.list_keys(rg, spec.name),
        )
    return str(keys.primary_key or "")


def _least_settled(*states: object) -> str:
    found = [str(s) for s in states if s]
    unsettled = [s for s in found if s.lower() not in SETTLED]
    failed = [s for s in found if s.lower() == "failed"]
    return (unsettled or failed or found or [""])[0]
