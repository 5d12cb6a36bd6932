"""Microsoft.Authorization: role assignments at any scope and built-in role definitions."""

from __future__ import annotations

import re

from tests.fakes.ids import RESOURCE_GROUPS, ArmPath, is_under, parse_path
from tests.fakes.kinds import JsonDict, fill_role_assignment
from tests.fakes.store import Reply, Store, error

BUILT_IN_ROLES: dict[str, str] = {
    "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd": "Cognitive Services OpenAI User",
    "a001fd3d-188f-4b5d-821b-7da978bf7442": "Cognitive Services OpenAI Contributor",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
}
_AUTH = "/providers/microsoft.authorization"
_ROLE_NAME_FILTER = re.compile(r"rolename\s+eq\s+'([^']*)'", re.IGNORECASE)
_PRINCIPAL_FILTER = re.compile(r"principalid\s+eq\s+'([^']*)'", re.IGNORECASE)


def role_definition(scope: str, guid: str) -> JsonDict:
    parsed = parse_path(scope) if scope.strip("/") else None
    prefix = f"/subscriptions/{parsed.subscription}" if parsed and parsed.subscription else ""
    return {
        "id": f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {
            "roleName": BUILT_IN_ROLES[guid],
            "type": "BuiltInRole",
            "description": f"Built-in role {BUILT_IN_ROLES[guid]}",
            "assignableScopes": ["/"],
            "permissions": [{"actions": [], "notActions": [], "dataActions": ["*"]}],
        },
    }


def _scope_of(lower_id: str) -> str:
    return lower_id[: lower_id.rindex(_AUTH)] or "/"


def list_definitions(arm: ArmPath, query: dict[str, str]) -> list[JsonDict]:
    scope = _scope_of(arm.lower)
    wanted = _ROLE_NAME_FILTER.search(query.get("$filter", ""))
    return [
        role_definition(scope, guid)
        for guid, name in BUILT_IN_ROLES.items()
        if wanted is None or wanted.group(1).lower() == name.lower()
    ]


def get_definition(arm: ArmPath) -> Reply:
    guid = arm.name.lower()
    if guid not in BUILT_IN_ROLES:
        return error(
            404, "RoleDefinitionDoesNotExist", "The specified role definition does not exist."
        )
    return Reply(200, role_definition(_scope_of(arm.lower), guid))


def list_assignments(store: Store, arm: ArmPath, query: dict[str, str]) -> list[JsonDict]:
    scope = _scope_of(arm.lower)
    text = query.get("$filter", "")
    at_scope = "atscope()" in text.lower()
    principal = _PRINCIPAL_FILTER.search(text)
    found: list[JsonDict] = []
    for rid, res in store.resources.items():
        if "/providers/microsoft.authorization/roleassignments/" not in rid:
            continue
        ra_scope = _scope_of(rid)
        above = is_under(scope, ra_scope) or ra_scope == "/"
        if not (above or (not at_scope and is_under(ra_scope, scope))):
            continue
        props = res.get("properties")
        assert isinstance(props, dict)
        if principal and str(props.get("principalId", "")).lower() != principal.group(1).lower():
            continue
        found.append(res)
    return found


def _guid_tail(role_definition_id: object) -> str:
    return str(role_definition_id).rstrip("/").rsplit("/", 1)[-1].lower()


def put_assignment(
    store: Store, arm: ArmPath, body: JsonDict, principal_not_found_calls: int
) -> Reply:
    props = body.get("properties")
    assert isinstance(props, dict)  # the spec check ran before
    scope = _scope_of(arm.lower)
    scope_arm = parse_path(scope)
    if (scope_arm.type_key == RESOURCE_GROUPS or "/providers/" in scope) and (
        scope not in store.resources
    ):
        code = (
            "ResourceGroupNotFound" if scope_arm.type_key == RESOURCE_GROUPS else "ResourceNotFound"
        )
        return error(404, code, f"The scope '{scope}' does not exist.")
    role = _guid_tail(props.get("roleDefinitionId"))
    if role not in BUILT_IN_ROLES:
        return error(
            400, "RoleDefinitionDoesNotExist", "The specified role definition does not exist."
        )
    principal = str(props.get("principalId", "")).lower()
    refusal = _principal_not_found(store, principal, props, principal_not_found_calls)
    if refusal is not None:
        return refusal
    existing = store.get(arm.lower)
    for rid, res in store.resources.items():
        other = res.get("properties")
        if rid == arm.lower or "/roleassignments/" not in rid or not isinstance(other, dict):
            continue
        if (
            _scope_of(rid) == scope
            and str(other.get("principalId", "")).lower() == principal
            and _guid_tail(other.get("roleDefinitionId")) == role
        ):
            return error(409, "RoleAssignmentExists", "The role assignment already exists.")
    if existing is not None:
        old = existing.get("properties")
        assert isinstance(old, dict)
        if (str(old.get("principalId")).lower(), _guid_tail(old.get("roleDefinitionId"))) != (
            principal,
            role,
        ):
            return error(
                409,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
    resource = fill_role_assignment(arm, body, existing)
    store.put(arm.lower, resource)
    return Reply(201, resource)


def _principal_not_found(
    store: Store, principal: str, props: dict[str, object], calls: int
) -> Reply | None:
    """A fresh identity is not yet replicated to Entra ID: refuse its first few assignments.

    Sending principalType=ServicePrincipal lets ARM skip the directory lookup, so it helps
    but (in the fake, as sometimes in Azure) not always: one refusal remains.
    """
    if principal not in store.fresh_principals:
        return None
    seen = store.fresh_principals[principal]
    store.fresh_principals[principal] = seen + 1
    is_sp = str(props.get("principalType", "")).lower() == "serviceprincipal"
    limit = min(1, calls) if is_sp else calls
    if seen < limit:
        return error(
            400,
            "PrincipalNotFound",
            f"Principal {principal} does not exist in the directory. Check that you have the "
            "correct principal ID. If you are creating this principal and then immediately "
            "assigning a role, this error might be related to a replication delay.",
        )
    return None
