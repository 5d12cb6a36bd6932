"""grant_roles: the configured role for APIM's managed identity on every foundry account."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from batchgw import naming
from batchgw.errors import ConfigError
from batchgw.model import Desired
from batchgw.plan import UNKNOWN, Action, Change, Value, created, deleted
from batchgw.steps.backends import BackendsObserved, is_ours
from batchgw.steps.base import Ctx, Event, Known, arm_code, guarded, retry_while

NAME = "grant_roles"
TYPE = "Microsoft.Authorization/roleAssignments"


@dataclass(frozen=True, slots=True)
class Assignment:
    id: str
    scope: str
    principal_id: str
    role_guid: str
    description: str


@dataclass(frozen=True, slots=True)
class RolesObserved:
    role_guid: str
    assignments: tuple[Assignment, ...]  # at the foundry scopes we looked at


def description(environment: str) -> str:
    return f"managed by batchgw ({environment})"


def list_at_scope(ctx: Ctx, scope: str) -> list[Assignment]:
    ops = ctx.clients.authorization.role_assignments
    found = guarded(
        NAME,
        scope,
        "listing role assignments on",
        lambda: list(ops.list_for_scope(scope, filter="atScope()")),
    )
    result = []
    for item in found:
        if str(item.scope or "").lower() != scope.lower():
            continue
        result.append(
            Assignment(
                id=str(item.id),
                scope=scope,
                principal_id=str(item.principal_id or "").lower(),
                role_guid=str(item.role_definition_id or "").rstrip("/").split("/")[-1].lower(),
                description=str(item.description or ""),
            )
        )
    return result


def resolve_role(ctx: Ctx, role: str) -> str:
    guid = naming.known_role_guid(role)
    if guid:
        return guid
    scope = f"/subscriptions/{ctx.desired.subscription_id}"
    escaped = role.replace("'", "''")
    found = guarded(
        NAME,
        scope,
        "looking up role",
        lambda: list(
            ctx.clients.authorization.role_definitions.list(
                scope, filter=f"roleName eq '{escaped}'"
            )
        ),
    )
    if not found:
        raise ConfigError(
            f"access.role: no role named `{role}` in subscription {ctx.desired.subscription_id}",
            "use a built-in role name (`Cognitive Services OpenAI Contributor`) or a role GUID",
        )
    return str(found[0].name).lower()


class RolesStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ("ensure_apim",)

    def read(self, ctx: Ctx, known: Known) -> RolesObserved:
        scopes = [role.scope for role in ctx.desired.roles]
        configured = {scope.lower() for scope in scopes}
        scopes += [s for s in _known_stale_scopes(known) if s.lower() not in configured]
        role_spec = ctx.desired.roles[0].role if ctx.desired.roles else ""
        with ThreadPoolExecutor(max_workers=len(scopes) + 1) as pool:
            guid_future = pool.submit(resolve_role, ctx, role_spec)
            lists = list(pool.map(lambda scope: list_at_scope(ctx, scope), scopes))
            guid = guid_future.result()
        return RolesObserved(role_guid=guid, assignments=tuple(a for found in lists for a in found))

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, RolesObserved)
        principal = str(known.get("principal_id") or "").lower()
        mark = description(desired.environment)
        changes: list[Change] = []
        kept: set[str] = set()
        for role in desired.roles:
            match = [
                a
                for a in observed.assignments
                if principal
                and a.scope.lower() == role.scope.lower()
                and a.principal_id == principal
                and a.role_guid == observed.role_guid
            ]
            if match:
                kept.update(a.id.lower() for a in match)
                continue
            name: Value = (
                naming.role_assignment_name(role.scope, principal, observed.role_guid)
                if principal
                else UNKNOWN
            )
            arm_id = (
                naming.role_assignment_id(role.scope, name)
                if isinstance(name, str)
                else f"{role.scope} (role assignment)"
            )
            fields: dict[str, Value] = {
                "scope": role.scope,
                "roleDefinitionId": naming.role_definition_id(
                    desired.subscription_id, observed.role_guid
                ),
                "role": role.role,
                "principalId": principal or UNKNOWN,
                "principalType": "ServicePrincipal",
            }
            changes.append(Change(NAME, Action.CREATE, TYPE, role.foundry, arm_id, created(fields)))
        for a in observed.assignments:
            ours = a.description == mark or (principal and a.principal_id == principal)
            if ours and a.id.lower() not in kept:
                foundry = a.scope.rstrip("/").split("/")[-1]
                before = {
                    "scope": a.scope,
                    "principalId": a.principal_id,
                    "roleDefinitionId": a.role_guid,
                }
                changes.append(Change(NAME, Action.DELETE, TYPE, foundry, a.id, deleted(before)))
        return changes

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        assert isinstance(observed, RolesObserved)
        changes = self.diff(ctx.desired, observed, known)
        if changes:
            with ThreadPoolExecutor(max_workers=len(changes)) as pool:
                list(pool.map(lambda c: _apply_one(ctx, observed.role_guid, known, c), changes))
        return {}

    def outputs(self, observed: object) -> dict[str, object]:
        return {}


def _known_stale_scopes(known: Known) -> list[str]:
    scopes = known.get("stale_foundry_scopes", ())
    return [str(s) for s in scopes] if isinstance(scopes, list | tuple) else []


def _apply_one(ctx: Ctx, role_guid: str, known: Known, change: Change) -> None:
    ops = ctx.clients.authorization.role_assignments
    label = f"role on {change.name}"
    if change.action is Action.DELETE:
        ctx.report(Event("start", NAME, label, "removing"))
        guarded(NAME, change.id, "removing", lambda: ops.delete_by_id(change.id))
        ctx.report(Event("done", NAME, label, "removed"))
        return
    from azure.core.exceptions import HttpResponseError
    from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

    principal = str(known.get("principal_id") or "")
    scope = str(change.diff["scope"][1])
    name = naming.role_assignment_name(scope, principal, role_guid)
    body = RoleAssignmentCreateParameters(
        role_definition_id=naming.role_definition_id(ctx.desired.subscription_id, role_guid),
        principal_id=principal,
        # Without this, a principal created minutes ago is looked up in the directory and
        # answers PrincipalNotFound until replication catches up.
        principal_type="ServicePrincipal",
        description=description(ctx.desired.environment),
    )
    ctx.report(Event("start", NAME, label, "granting"))

    def create() -> None:
        try:
            retry_while(
                ctx,
                NAME,
                label,
                partial(ops.create, scope, name, body),
                transient=lambda exc: arm_code(exc) == "PrincipalNotFound",
                detail="identity not replicated yet, retrying",
                timeout=ctx.principal_timeout,
                max_delay=30.0,
            )
        except HttpResponseError as exc:
            # The same grant under another name is what we wanted.
            if arm_code(exc) != "RoleAssignmentExists":
                raise

    guarded(NAME, naming.role_assignment_id(scope, name), "granting", create)
    ctx.report(Event("done", NAME, label, "granted"))


def stale_scopes(observed: object, desired: Desired) -> list[str]:
    """Foundry scopes of backends that config no longer names (their roles must go too)."""
    if not isinstance(observed, BackendsObserved):
        return []
    wanted = {b.backend_id.lower() for b in desired.backends}
    scopes = []
    for backend_id, fields in observed.backends.items():
        resource = str(fields.get("resourceId") or "")
        if backend_id not in wanted and is_ours(backend_id) and "/subscriptions/" in resource:
            scopes.append("/subscriptions/" + resource.split("/subscriptions/", 1)[1])
    return scopes
