"""Teardown: delete what deploy created, in reverse order; refuse what batchgw doesn't own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from batchgw import naming
from batchgw.errors import BatchgwError
from batchgw.model import Desired, build_desired, offline_foundries
from batchgw.plan import Action, Change, Plan
from batchgw.steps.apim import ApimObserved, ApimStep
from batchgw.steps.backends import BackendsObserved, BackendsStep
from batchgw.steps.base import Ctx, Event, Reporter, get_or_none, guarded, ignore_event
from batchgw.steps.cache import CacheObserved, CacheStep
from batchgw.steps.redis import CLASSIC_TYPE, MANAGED_TYPE
from batchgw.steps.roles import RolesObserved, RolesStep, description

if TYPE_CHECKING:
    from batchgw.azure import AzureClients
    from batchgw.config import Settings

NAME = "teardown"


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


def read_teardown(settings: Settings, clients: AzureClients, *, purge: bool) -> TeardownState:
    desired = build_desired(settings, offline_foundries(settings))
    ctx = Ctx(clients=clients, desired=desired, arm_endpoint=settings.arm_endpoint)
    rg = desired.resource_group
    apim, redis = desired.apim, desired.redis

    def read_redis() -> object | None:
        if redis.kind == "managed":
            return get_or_none(
                lambda: clients.redis_enterprise.redis_enterprise.get(rg.name, redis.name)
            )
        return get_or_none(lambda: clients.redis.redis.get(rg.name, redis.name))

    with ThreadPoolExecutor(max_workers=6) as pool:
        f_group = pool.submit(
            lambda: guarded(
                NAME,
                rg.id,
                "reading",
                lambda: get_or_none(lambda: clients.resource.resource_groups.get(rg.name)),
            )
        )
        f_redis = pool.submit(lambda: guarded(NAME, redis.id, "reading", read_redis))
        f_apim = pool.submit(ApimStep().read, ctx, {})
        f_backends = pool.submit(BackendsStep().read, ctx, {})
        f_cache = pool.submit(CacheStep().read, ctx, {})
        f_roles = pool.submit(RolesStep().read, ctx, {})
        group, redis_found = f_group.result(), f_redis.result()
        apim_seen, backends, cache, roles = (
            f_apim.result(),
            f_backends.result(),
            f_cache.result(),
            f_roles.result(),
        )
    assert isinstance(apim_seen, ApimObserved) and isinstance(backends, BackendsObserved)
    assert isinstance(cache, CacheObserved) and isinstance(roles, RolesObserved)
    refused = []
    if apim_seen.fields is not None and not naming.is_owned(apim_seen.tags, desired.environment):
        refused.append(f"API Management `{apim.name}`")
    if redis_found is not None and not naming.is_owned(_tags_of(redis_found), desired.environment):
        refused.append(f"Redis `{redis.name}`")
    if refused:
        raise BatchgwError(
            f"refusing to delete {' and '.join(refused)}: not tagged managed-by=batchgw, "
            f"batchgw-environment={desired.environment}",
            "batchgw only deletes what it created; delete it yourself, or check `environment`",
        )
    # Roles from backends that config no longer lists are ours too.
    from batchgw.engine import stale_scopes

    extra = stale_scopes(backends, desired)
    if extra:
        roles = RolesStep().read(ctx, {"stale_foundry_scopes": extra})
        assert isinstance(roles, RolesObserved)
    changes: list[Change] = []
    principal = apim_seen.principal_id.lower()
    mark = description(desired.environment)
    for a in roles.assignments:
        if a.description == mark or (principal and a.principal_id == principal):
            foundry = a.scope.rstrip("/").split("/")[-1]
            changes.append(
                Change(
                    "grant_roles",
                    Action.DELETE,
                    "Microsoft.Authorization/roleAssignments",
                    foundry,
                    a.id,
                )
            )
    if apim_seen.fields is not None:
        note = "deleted with the API Management service"
        if cache.fields is not None:
            changes.append(
                Change(
                    "link_cache",
                    Action.DELETE,
                    "Microsoft.ApiManagement/service/caches",
                    desired.cache.cache_id,
                    desired.cache.id,
                    note=note,
                )
            )
        for backend_id in sorted(backends.backends):
            changes.append(
                Change(
                    "ensure_backends",
                    Action.DELETE,
                    "Microsoft.ApiManagement/service/backends",
                    backend_id,
                    f"{apim.id}/backends/{backend_id}",
                    note=note,
                )
            )
        changes.append(
            Change(
                "ensure_apim",
                Action.DELETE,
                "Microsoft.ApiManagement/service",
                apim.name,
                apim.id,
                note="purged after delete"
                if purge
                else "soft-deleted for 48 h (use --purge to free the name now)",
            )
        )
    elif purge and apim_seen.soft_deleted:
        changes.append(
            Change(
                "ensure_apim",
                Action.DELETE,
                "Microsoft.ApiManagement/deletedservices",
                apim.name,
                naming.deleted_apim_id(desired.subscription_id, apim.location, apim.name),
                note="purge the soft-deleted service",
            )
        )
    if redis_found is not None:
        kind = MANAGED_TYPE if redis.kind == "managed" else CLASSIC_TYPE
        changes.append(Change("ensure_redis", Action.DELETE, kind, redis.name, redis.id))
    rg_owned = group is not None and naming.is_owned(_tags_of(group), desired.environment)
    if rg_owned:
        changes.append(
            Change(
                "resource_group",
                Action.DELETE,
                "Microsoft.Resources/resourceGroups",
                rg.name,
                rg.id,
                note="only if nothing else is left in it",
            )
        )
    return TeardownState(
        desired=desired,
        plan=Plan(changes=tuple(changes)),
        apim_exists=apim_seen.fields is not None,
        redis_exists=redis_found is not None,
        rg_owned=rg_owned,
        soft_deleted=apim_seen.soft_deleted,
    )


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
