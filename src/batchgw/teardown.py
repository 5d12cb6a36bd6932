"""Teardown: delete what deploy created, in reverse order; refuse what batchgw doesn't own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from batchgw import naming
from batchgw.errors import BatchgwError
from batchgw.model import Desired, build_desired, offline_foundries
from batchgw.plan import Action, Change, Plan
from batchgw.steps.apim import TYPE as APIM_TYPE
from batchgw.steps.apim import ApimObserved, ApimStep
from batchgw.steps.apis import API_TYPE, ApisObserved, ApisStep
from batchgw.steps.backends import TYPE as BACKEND_TYPE
from batchgw.steps.backends import BackendsObserved, BackendsStep
from batchgw.steps.base import Ctx, Event, Reporter, get_or_none, guarded, ignore_event
from batchgw.steps.cache import TYPE as CACHE_TYPE
from batchgw.steps.cache import CacheObserved, CacheStep
from batchgw.steps.redis import CLASSIC_TYPE, MANAGED_TYPE
from batchgw.steps.resource_group import TYPE as GROUP_TYPE
from batchgw.steps.roles import TYPE as ROLE_TYPE
from batchgw.steps.roles import RolesObserved, RolesStep, description, stale_scopes

if TYPE_CHECKING:
    from batchgw.azure import AzureClients
    from batchgw.config import Settings

NAME = "teardown"
DELETED_TYPE = "Microsoft.ApiManagement/deletedservices"


@dataclass(frozen=True)
class TeardownState:
    desired: Desired
    plan: Plan
    apim_exists: bool
    redis_exists: bool
    rg_owned: bool
    soft_deleted: bool


def _tags_of(resource: object) -> dict[str, str]:
    return dict(getattr(resource, "tags", None) or {})


@dataclass(frozen=True)
class Seen:
    """What exists now, read in one concurrent round."""

    group: object | None
    redis: object | None
    apim: ApimObserved
    backends: BackendsObserved
    cache: CacheObserved
    apis: ApisObserved
    roles: RolesObserved


def read_teardown(settings: Settings, clients: AzureClients, *, purge: bool) -> TeardownState:
    desired = build_desired(settings, offline_foundries(settings))
    ctx = Ctx(clients=clients, desired=desired, arm_endpoint=settings.arm_endpoint)
    seen = _read(ctx)
    _refuse_unowned(seen, desired)
    extra = stale_scopes(seen.backends, desired)
    if extra:
        # Roles granted on foundries that config no longer lists are ours too.
        roles = RolesStep().read(ctx, {"stale_foundry_scopes": extra})
        seen = replace(seen, roles=roles)
    rg_owned = seen.group is not None and naming.is_owned(_tags_of(seen.group), desired.environment)
    changes = [
        *_role_changes(seen, desired),
        *_apim_changes(seen, desired, purge=purge),
        *_redis_changes(seen, desired),
        *_group_changes(desired, owned=rg_owned),
    ]
    return TeardownState(
        desired=desired,
        plan=Plan(changes=tuple(changes)),
        apim_exists=seen.apim.fields is not None,
        redis_exists=seen.redis is not None,
        rg_owned=rg_owned,
        soft_deleted=seen.apim.soft_deleted,
    )


def _read(ctx: Ctx) -> Seen:
    clients, desired = ctx.clients, ctx.desired
    rg, redis = desired.resource_group, desired.redis

    def read_group() -> object | None:
        return get_or_none(partial(clients.resource.resource_groups.get, rg.name))

    def read_redis() -> object | None:
        if redis.kind == "managed":
            ops = clients.redis_enterprise.redis_enterprise
            return get_or_none(partial(ops.get, rg.name, redis.name))
        return get_or_none(partial(clients.redis.redis.get, rg.name, redis.name))

    with ThreadPoolExecutor(max_workers=7) as pool:
        group = pool.submit(guarded, NAME, rg.id, "reading", read_group)
        found = pool.submit(guarded, NAME, redis.id, "reading", read_redis)
        apim = pool.submit(ApimStep().read, ctx, {})
        backends = pool.submit(BackendsStep().read, ctx, {})
        cache = pool.submit(CacheStep().read, ctx, {})
        apis = pool.submit(ApisStep().read, ctx, {})
        roles = pool.submit(RolesStep().read, ctx, {})
        return Seen(
            group=group.result(),
            redis=found.result(),
            apim=apim.result(),
            backends=backends.result(),
            cache=cache.result(),
            apis=apis.result(),
            roles=roles.result(),
        )


def _refuse_unowned(seen: Seen, desired: Desired) -> None:
    refused = []
    if seen.apim.fields is not None and not naming.is_owned(seen.apim.tags, desired.environment):
        refused.append(f"API Management `{desired.apim.name}`")
    if seen.redis is not None and not naming.is_owned(_tags_of(seen.redis), desired.environment):
        refused.append(f"Redis `{desired.redis.name}`")
    if refused:
        raise BatchgwError(
            f"refusing to delete {' and '.join(refused)}: not tagged managed-by=batchgw, "
            f"batchgw-environment={desired.environment}",
            "batchgw only deletes what it created; delete it yourself, or check `environment`",
        )


def _role_changes(seen: Seen, desired: Desired) -> list[Change]:
    principal = seen.apim.principal_id.lower()
    mark = description(desired.environment)
    return [
        Change("grant_roles", Action.DELETE, ROLE_TYPE, a.scope.rstrip("/").split("/")[-1], a.id)
        for a in seen.roles.assignments
        if a.description == mark or (principal and a.principal_id == principal)
    ]


def _apim_changes(seen: Seen, desired: Desired, *, purge: bool) -> list[Change]:
    apim = desired.apim
    if seen.apim.fields is None:
        if not (purge and seen.apim.soft_deleted):
            return []
        deleted_id = naming.deleted_apim_id(desired.subscription_id, apim.location, apim.name)
        note = "purge the soft-deleted service"
        return [
            Change("ensure_apim", Action.DELETE, DELETED_TYPE, apim.name, deleted_id, note=note)
        ]
    # Children go with the service; they are listed so the plan shows everything that goes.
    with_service = "deleted with the API Management service"
    changes = [
        Change(
            "ensure_apis",
            Action.DELETE,
            API_TYPE,
            api_id,
            f"{apim.id}/apis/{api_id}",
            note=with_service,
        )
        for api_id, api in seen.apis.apis.items()
        if api.fields is not None
    ]
    changes += [
        Change(
            "ensure_backends",
            Action.DELETE,
            BACKEND_TYPE,
            backend_id,
            f"{apim.id}/backends/{backend_id}",
            note=with_service,
        )
        for backend_id in sorted(seen.backends.backends)
    ]
    if seen.cache.fields is not None:
        cache = desired.cache
        changes.append(
            Change(
                "link_cache", Action.DELETE, CACHE_TYPE, cache.cache_id, cache.id, note=with_service
            )
        )
    soft = (
        "purged after delete"
        if purge
        else "soft-deleted for 48 h (use --purge to free the name now)"
    )
    changes.append(Change("ensure_apim", Action.DELETE, APIM_TYPE, apim.name, apim.id, note=soft))
    return changes


def _redis_changes(seen: Seen, desired: Desired) -> list[Change]:
    if seen.redis is None:
        return []
    redis = desired.redis
    kind = MANAGED_TYPE if redis.kind == "managed" else CLASSIC_TYPE
    return [Change("ensure_redis", Action.DELETE, kind, redis.name, redis.id)]


def _group_changes(desired: Desired, *, owned: bool) -> list[Change]:
    if not owned:
        return []
    rg = desired.resource_group
    note = "only if nothing else is left in it"
    return [Change("resource_group", Action.DELETE, GROUP_TYPE, rg.name, rg.id, note=note)]


def apply_teardown(
    settings: Settings,
    clients: AzureClients,
    state: TeardownState,
    *,
    purge: bool,
    report: Reporter = ignore_event,
) -> list[str]:
    """Roles first, then APIM and Redis together, then the group if it is ours and empty."""
    desired = state.desired
    rg, apim, redis = desired.resource_group, desired.apim, desired.redis
    notes: list[str] = []
    roles = [c for c in state.plan.changes if c.step == "grant_roles"]
    if roles:
        with ThreadPoolExecutor(max_workers=len(roles)) as pool:
            list(pool.map(lambda c: _delete_role(clients, c, report), roles))

    def delete_apim() -> None:
        if state.apim_exists:
            label = f"API Management {apim.name}"
            report(Event("start", NAME, label, "deleting"))
            guarded(
                NAME,
                apim.id,
                "deleting",
                lambda: clients.apim.api_management_service.begin_delete(
                    rg.name, apim.name
                ).result(),
            )
            report(Event("done", NAME, label, "deleted"))
        if purge and (state.apim_exists or state.soft_deleted):
            label = f"soft-deleted API Management {apim.name}"
            report(Event("start", NAME, label, "purging"))
            deleted_id = naming.deleted_apim_id(desired.subscription_id, apim.location, apim.name)
            guarded(
                NAME,
                deleted_id,
                "purging",
                lambda: clients.apim.deleted_services.begin_purge(
                    apim.name, apim.location
                ).result(),
            )
            report(Event("done", NAME, label, "purged"))

    def delete_redis() -> None:
        if not state.redis_exists:
            return
        label = f"Redis {redis.name}"
        report(Event("start", NAME, label, "deleting"))

        def call() -> None:
            if redis.kind == "managed":
                clients.redis_enterprise.redis_enterprise.begin_delete(rg.name, redis.name).result()
            else:
                clients.redis.redis.begin_delete(rg.name, redis.name).result()

        guarded(NAME, redis.id, "deleting", call)
        report(Event("done", NAME, label, "deleted"))

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(delete_apim), pool.submit(delete_redis)]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    if state.rg_owned:
        left = guarded(
            NAME,
            rg.id,
            "listing",
            lambda: list(clients.resource.resources.list_by_resource_group(rg.name)),
        )
        if left:
            notes.append(
                f"kept resource group `{rg.name}`: it still holds {len(left)} resource(s) "
                "batchgw did not create"
            )
        else:
            label = f"resource group {rg.name}"
            report(Event("start", NAME, label, "deleting"))
            guarded(
                NAME,
                rg.id,
                "deleting",
                lambda: clients.resource.resource_groups.begin_delete(rg.name).result(),
            )
            report(Event("done", NAME, label, "deleted"))
    return notes


def _delete_role(clients: AzureClients, change: Change, report: Reporter) -> None:
    label = f"role on {change.name}"
    report(Event("start", NAME, label, "removing"))
    guarded(
        NAME,
        change.id,
        "removing",
        lambda: get_or_none(lambda: clients.authorization.role_assignments.delete_by_id(change.id)),
    )
    report(Event("done", NAME, label, "removed"))
