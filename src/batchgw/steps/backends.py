"""ensure_backends: one Single backend per foundry (with a circuit breaker) and a Pool over them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from batchgw import naming
from batchgw.model import BackendSpec, Desired
from batchgw.plan import Action, Change, Value, created, deleted, diff_fields
from batchgw.steps.base import Ctx, Event, Known, guarded, write

NAME = "ensure_backends"
PRUNE = "prune_backends"
TYPE = "Microsoft.ApiManagement/service/backends"
BREAKER = "trip 3 x [429, 500-599] within PT10S for PT30S, accept Retry-After"


@dataclass(frozen=True, slots=True)
class BackendsObserved:
    apim_exists: bool
    backends: dict[str, dict[str, Value]]  # backend id (lower) -> fields


def breaker_text(breaker: Any) -> str:
    rules = list(getattr(breaker, "rules", None) or [])
    if len(rules) != 1:
        return f"{len(rules)} rules"
    rule = rules[0]
    cond = rule.failure_condition
    ranges = ", ".join(
        str(r.min) if r.min == r.max else f"{r.min}-{r.max}"
        for r in (cond.status_code_ranges or [])
    )
    retry = ", accept Retry-After" if rule.accept_retry_after else ""
    return (
        f"trip {cond.count} x [{ranges}] within {_iso(cond.interval)} "
        f"for {_iso(rule.trip_duration)}{retry}"
    )


def _iso(value: Any) -> str:
    if isinstance(value, timedelta):
        return f"PT{int(value.total_seconds())}S"
    return str(value)


def pool_text(services: Any) -> list[str]:
    items = [
        f"{str(s.id).rstrip('/').split('/')[-1]} weight={s.weight} priority={s.priority}"
        for s in services or []
    ]
    return sorted(items, key=str.lower)


def desired_fields(spec: BackendSpec, arm_endpoint: str) -> dict[str, Value]:
    if spec.kind == "Pool":
        return {
            "type": "Pool",
            "pool.services": sorted(
                (f"{m.backend_id} weight={m.weight} priority={m.priority}" for m in spec.members),
                key=str.lower,
            ),
        }
    return {
        "type": "Single",
        "url": spec.url,
        "protocol": "http",
        "resourceId": f"{arm_endpoint}{spec.foundry_id}",
        "circuitBreaker": BREAKER,
    }


def observed_fields(backend: Any) -> dict[str, Value]:
    kind = str(backend.type_properties_type or "Single")
    if kind.lower() == "pool":
        return {
            "type": "Pool",
            "pool.services": pool_text(backend.pool.services if backend.pool else []),
        }
    return {
        "type": kind,
        "url": backend.url,
        "protocol": backend.protocol,
        "resourceId": backend.resource_id,
        "circuitBreaker": breaker_text(backend.circuit_breaker),
    }


def is_ours(backend_id: str) -> bool:
    lowered = backend_id.lower()
    return lowered.startswith("foundry-") or lowered == naming.POOL_BACKEND_ID


class BackendsStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ("ensure_apim",)

    def read(self, ctx: Ctx, known: Known) -> BackendsObserved:
        apim = ctx.desired.apim
        rg = ctx.desired.resource_group.name
        from azure.core.exceptions import HttpResponseError

        from batchgw.steps.base import not_found

        def list_all() -> BackendsObserved:
            try:
                items = list(ctx.clients.apim.backend.list_by_service(rg, apim.name))
            except HttpResponseError as exc:
                if not_found(exc):
                    return BackendsObserved(apim_exists=False, backends={})
                raise
            return BackendsObserved(
                apim_exists=True,
                backends={
                    str(b.name).lower(): observed_fields(b) for b in items if is_ours(str(b.name))
                },
            )

        return guarded(NAME, f"{apim.id}/backends", "listing", list_all)

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, BackendsObserved)
        endpoint = str(known.get("arm_endpoint", ""))
        changes: list[Change] = []
        for spec in desired.backends:
            fields = desired_fields(spec, endpoint)
            before = observed.backends.get(spec.backend_id.lower())
            if before is None:
                changes.append(
                    Change(NAME, Action.CREATE, TYPE, spec.backend_id, spec.id, created(fields))
                )
                continue
            changed = diff_fields(fields, before, fold_case=("type", "protocol", "resourceId"))
            if "pool.services" in changed and _same_list(
                before.get("pool.services"), fields["pool.services"]
            ):
                del changed["pool.services"]
            if changed:
                changes.append(Change(NAME, Action.UPDATE, TYPE, spec.backend_id, spec.id, changed))
        return changes

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        changes = self.diff(ctx.desired, observed, known)
        specs = {b.backend_id: b for b in ctx.desired.backends}
        rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
        endpoint = ctx.arm_endpoint

        def put(change: Change) -> None:
            label = f"backend {change.name}"
            body = _contract(specs[change.name], ctx.desired, endpoint)
            verb = "creating" if change.action is Action.CREATE else "updating"
            ctx.report(Event("start", NAME, label, verb))
            backends = ctx.clients.apim.backend
            call = partial(backends.create_or_update, rg, service, change.name, body)
            write(ctx, NAME, change.id, verb, call)
            ctx.report(Event("done", NAME, label, verb.replace("ing", "ed")))

        # Regional backends all at once, then the pool, which points at them.
        regional = [c for c in changes if c.name != naming.POOL_BACKEND_ID]
        if regional:
            with ThreadPoolExecutor(max_workers=min(16, len(regional))) as pool:
                list(pool.map(put, regional))
        for change in changes:
            if change.name == naming.POOL_BACKEND_ID:
                put(change)
        return {}

    def outputs(self, observed: object) -> dict[str, object]:
        return {}


def _same_list(before: Value, after: Value) -> bool:
    if not isinstance(before, list) or not isinstance(after, list):
        return False
    return [str(x).lower() for x in before] == [str(x).lower() for x in after]


def _contract(spec: BackendSpec, desired: Desired, endpoint: str) -> Any:
    from azure.mgmt.apimanagement.models import (
        BackendBaseParametersPool,
        BackendCircuitBreaker,
        BackendContract,
        BackendPoolItem,
        BackendTlsProperties,
        CircuitBreakerFailureCondition,
        CircuitBreakerRule,
        FailureStatusCodeRange,
    )

    if spec.kind == "Pool":
        return BackendContract(
            description="batchgw: all foundry regions",
            type_properties_type="Pool",
            pool=BackendBaseParametersPool(
                services=[
                    BackendPoolItem(
                        id=f"{desired.apim.id}/backends/{m.backend_id}",
                        weight=m.weight,
                        priority=m.priority,
                    )
                    for m in spec.members
                ]
            ),
        )
    rule = CircuitBreakerRule(
        name="throttled-or-failing",
        failure_condition=CircuitBreakerFailureCondition(
            count=3,
            interval=timedelta(seconds=10),
            status_code_ranges=[
                FailureStatusCodeRange(min=429, max=429),
                FailureStatusCodeRange(min=500, max=599),
            ],
        ),
        trip_duration=timedelta(seconds=30),
        accept_retry_after=True,
    )
    return BackendContract(
        description=f"batchgw: foundry region {spec.region or spec.backend_id}",
        url=str(spec.url),
        protocol="http",
        resource_id=f"{endpoint}{spec.foundry_id}",
        type_properties_type="Single",
        tls=BackendTlsProperties(validate_certificate_chain=True, validate_certificate_name=True),
        circuit_breaker=BackendCircuitBreaker(rules=[rule]),
    )


class PruneBackendsStep:
    """Backends of foundries no longer in config go last, once no policy names them."""

    name = PRUNE
    reads = NAME
    needs: tuple[str, ...] = ("ensure_apis",)

    def read(self, ctx: Ctx, known: Known) -> BackendsObserved:
        return BackendsStep().read(ctx, known)

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, BackendsObserved)
        wanted = {b.backend_id.lower() for b in desired.backends}
        return [
            Change(
                PRUNE,
                Action.DELETE,
                TYPE,
                backend_id,
                f"{desired.apim.id}/backends/{backend_id}",
                deleted(before),
            )
            for backend_id, before in sorted(observed.backends.items())
            if backend_id not in wanted
        ]

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
        for change in self.diff(ctx.desired, observed, known):
            label = f"backend {change.name}"
            ctx.report(Event("start", PRUNE, label, "deleting"))
            delete = partial(ctx.clients.apim.backend.delete, rg, service, change.name, "*")
            write(ctx, PRUNE, change.id, "deleting", delete)
            ctx.report(Event("done", PRUNE, label, "deleted"))
        return {}

    def outputs(self, observed: object) -> dict[str, object]:
        return {}
