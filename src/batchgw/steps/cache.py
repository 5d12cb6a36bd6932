"""link_cache: APIM's external cache pointing at the Redis that holds the affinity records."""

from __future__ import annotations

from dataclasses import dataclass

from batchgw.model import Desired
from batchgw.plan import SENSITIVE, UNKNOWN, Action, Change, Value, created, diff_fields
from batchgw.steps.base import Ctx, Event, Known, get_or_none, guarded, retry_busy
from batchgw.steps.redis import read_key

NAME = "link_cache"
TYPE = "Microsoft.ApiManagement/service/caches"


@dataclass(frozen=True, slots=True)
class CacheObserved:
    fields: dict[str, Value] | None


def desired_fields(desired: Desired, host: Value, arm_endpoint: str) -> dict[str, Value]:
    # The connection string can't be read back (GET answers a {{named-value}} placeholder), so
    # the description carries the host and port it points at, and that is what gets compared.
    port = desired.redis.port
    target = f"{host}:{port}" if isinstance(host, str) and host else UNKNOWN
    return {
        "resourceId": f"{arm_endpoint}{desired.redis.id}",
        "useFromLocation": "default",
        "description": target
        if not isinstance(target, str)
        else f"{desired.cache.description}: {target}",
    }


class CacheStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ("ensure_apim", "ensure_redis")

    def read(self, ctx: Ctx, known: Known) -> CacheObserved:
        cache = ctx.desired.cache
        rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
        found = guarded(
            NAME,
            cache.id,
            "reading",
            lambda: get_or_none(lambda: ctx.clients.apim.cache.get(rg, service, cache.cache_id)),
        )
        if found is None:
            return CacheObserved(None)
        return CacheObserved(
            {
                "resourceId": found.resource_id,
                "useFromLocation": found.use_from_location,
                "description": found.description,
            }
        )

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, CacheObserved)
        fields = desired_fields(
            desired, known.get("redis_host", UNKNOWN), str(known.get("arm_endpoint", ""))
        )
        cache = desired.cache
        if observed.fields is None:
            diff = created(fields)
            diff["connectionString"] = (None, SENSITIVE)
            return [Change(NAME, Action.CREATE, TYPE, cache.cache_id, cache.id, diff)]
        changed = diff_fields(fields, observed.fields, fold_case=("resourceId", "useFromLocation"))
        if not changed:
            return []
        changed["connectionString"] = (SENSITIVE, SENSITIVE)
        return [Change(NAME, Action.UPDATE, TYPE, cache.cache_id, cache.id, changed)]

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        changes = self.diff(ctx.desired, observed, known)
        if not changes:
            return {}
        from azure.mgmt.apimanagement.models import CacheContract

        host = known.get("redis_host")
        if not isinstance(host, str) or not host:
            raise RuntimeError("redis host unknown when linking the cache")
        desired = ctx.desired
        fields = desired_fields(desired, host, ctx.arm_endpoint)
        key = read_key(ctx)
        body = CacheContract(
            connection_string=f"{host}:{desired.redis.port},password={key},ssl=True,abortConnect=False",
            use_from_location="default",
            resource_id=str(fields["resourceId"]),
            description=str(fields["description"]),
        )
        rg, service = desired.resource_group.name, desired.apim.name
        label = f"external cache {desired.cache.cache_id}"
        ctx.report(Event("start", NAME, label, "linking"))
        guarded(
            NAME,
            desired.cache.id,
            "linking",
            lambda: retry_busy(
                ctx,
                NAME,
                label,
                lambda: ctx.clients.apim.cache.create_or_update(
                    rg, service, desired.cache.cache_id, body, if_match="*"
                ),
            ),
        )
        ctx.report(Event("done", NAME, label, "linked"))
        return {}

    def outputs(self, observed: object) -> dict[str, object]:
        return {}
