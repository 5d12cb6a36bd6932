"""Write handlers (PUT/PATCH/DELETE/POST listKeys) and GET rendering for FakeArm."""

from __future__ import annotations

import copy
import math
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tests.fakes import roles
from tests.fakes.ids import RESOURCE_GROUPS, ArmPath, parse_path
from tests.fakes.kinds import (
    APIM_SERVICE,
    KINDS,
    POLICY_KINDS,
    JsonDict,
    Kind,
    props_of,
    random_key,
)
from tests.fakes.policy_xml import PolicyError, parse_policy, render_policy
from tests.fakes.store import Reply, error

if TYPE_CHECKING:
    from tests.fakes.arm import FakeArm

_CACHES = "microsoft.apimanagement/service/caches"
_KEYED = frozenset({"microsoft.cache/redisenterprise/databases", "microsoft.cache/redis"})
_FAKE_TENANT = "72f988bf-0000-4000-8000-000000000000"
_SOFT_DELETE_HOURS = 48


def not_found(arm: ArmPath) -> Reply:
    return error(404, "ResourceNotFound", f"The Resource '{arm.path}' was not found.")


def missing_parent(fake: FakeArm, arm: ArmPath) -> Reply | None:
    """404 when the resource group or the parent resource of ``arm`` does not exist."""
    store = fake.store
    if arm.resource_group and arm.resource_group not in store.resources:
        name = arm.resource_group.rsplit("/", 1)[-1]
        return error(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
    if arm.parent and arm.parent != arm.resource_group and arm.parent not in store.resources:
        return error(404, "ResourceNotFound", f"The parent resource '{arm.parent}' was not found.")
    return None


def render(fake: FakeArm, resource: JsonDict, query: dict[str, str]) -> JsonDict:
    out = copy.deepcopy(resource)
    lower = str(out.get("id", "")).lower()
    arm = parse_path(lower)
    if arm.type_key in POLICY_KINDS and lower in fake.store.policies:
        fmt = query.get("format", "xml")
        props_of(out)["value"] = render_policy(fake.store.policies[lower], fmt)
    if arm.type_key == APIM_SERVICE:
        state = fake.apim_busy_state(lower)
        if state is not None:
            props_of(out)["provisioningState"] = state
    return out


def _apim_busy(fake: FakeArm, arm: ArmPath) -> Reply | None:
    if not arm.type_key.startswith(APIM_SERVICE + "/"):
        return None
    service_id = "/".join(arm.lower.split("/")[:9])
    service = fake.store.resources.get(service_id)
    state = fake.apim_busy_state(arm.lower)
    if state is None and isinstance(service, dict):
        state = str(props_of(service).get("provisioningState", "Succeeded"))
    if state is None or state.lower() == "succeeded":
        return None
    # APIM answers writes during an ongoing service operation with 409
    # PessimisticConcurrencyConflict (seen in Azure/apiops#141 and #497, and
    # MLogdberg/APIManagementARMTemplateCreator#85); clients retry it.
    return error(
        409,
        "PessimisticConcurrencyConflict",
        f"Operation on the API Management service is in progress (state: {state}).",
    )


def _region(resource: JsonDict) -> str:
    return str(resource.get("location", "global")).replace(" ", "").lower() or "global"


def _op_url(fake: FakeArm, kind: Kind, resource: JsonDict, base: str, what: str, op: str) -> str:
    arm = parse_path(str(resource.get("id", "")))
    sub = arm.subscription or fake.subscription_id
    region = _region(resource) if "location" in resource else "global"
    parent = fake.store.resources.get(arm.parent)
    if "location" not in resource and parent is not None:
        region = _region(parent)  # child resources (databases, ...) run in the parent's region
    return (
        f"{base}/subscriptions/{sub}/providers/{kind.namespace}/locations/{region}"
        f"/{what}/{op}?api-version=2024-05-01"
    )


def put(fake: FakeArm, arm: ArmPath, body: JsonDict, query: dict[str, str], base: str) -> Reply:
    kind = KINDS[arm.type_key]
    store = fake.store
    if arm.type_key == "microsoft.authorization/roleassignments":
        return roles.put_assignment(store, arm, body, fake.principal_not_found_calls)
    if arm.type_key != RESOURCE_GROUPS:
        refused = missing_parent(fake, arm) or _apim_busy(fake, arm)
        if refused is not None:
            return refused
    if arm.type_key == APIM_SERVICE:
        refused = _soft_deleted_conflict(fake, arm, body)
        if refused is not None:
            return refused
    existing = store.get(arm.lower)
    body = copy.deepcopy(body)
    if arm.type_key in POLICY_KINDS:
        props = props_of(body)
        try:
            store.policies[arm.lower] = parse_policy(
                str(props.get("value", "")), str(props.get("format", "xml"))
            )
        except PolicyError as exc:
            return error(400, "ValidationError", str(exc))
        props.pop("format", None)
    if arm.type_key == _CACHES:
        props = props_of(body)
        store.secrets[arm.lower] = str(props.get("connectionString", ""))
        old = props_of(existing).get("connectionString") if existing else None
        # GET shows a named-value placeholder, never the connection string that was sent.
        props["connectionString"] = old or "{{" + secrets.token_hex(12) + "}}"
    resource = kind.fill(arm, body, existing)
    if arm.type_key in POLICY_KINDS:
        props_of(resource)["value"] = render_policy(store.policies[arm.lower], "xml")
    if arm.type_key in _KEYED and arm.lower not in store.keys:
        store.keys[arm.lower] = {"primaryKey": random_key(), "secondaryKey": random_key()}
    status = 200 if existing is not None else 201
    if kind.put != "lro":
        store.put(arm.lower, resource)
        return Reply(status, resource)
    return _start_put_lro(fake, arm, kind, resource, existing, base, status)


def _start_put_lro(
    fake: FakeArm,
    arm: ArmPath,
    kind: Kind,
    resource: JsonDict,
    existing: JsonDict | None,
    base: str,
    status: int,
) -> Reply:
    store = fake.store
    props_of(resource)["provisioningState"] = "Updating" if existing else "Creating"
    if arm.type_key == APIM_SERVICE and existing is None:
        identity = resource.get("identity")
        if isinstance(identity, dict):
            # principalId is only dependable once the create operation has finished.
            identity.pop("principalId", None)
            identity.pop("tenantId", None)
    store.put(arm.lower, resource)

    def done() -> None:
        current = store.resources.get(arm.lower)
        if current is None:
            return
        props_of(current)["provisioningState"] = "Succeeded"
        identity = current.get("identity")
        if (
            isinstance(identity, dict)
            and "systemassigned" in str(identity.get("type", "")).lower()
            and "principalId" not in identity
        ):
            principal = str(uuid.uuid4())
            identity["principalId"] = principal
            identity["tenantId"] = _FAKE_TENANT
            store.fresh_principals[principal] = 0

    def failed() -> None:
        current = store.resources.get(arm.lower)
        if current is not None:
            props_of(current)["provisioningState"] = "Failed"

    op = fake.lros.start(
        "async",
        fake.lro_seconds_for(arm.type_key),
        fake.take_lro_failure(arm.path),
        done,
        failed,
    )
    url = _op_url(fake, kind, resource, base, "operationStatuses", op.op_id)
    headers = (("Azure-AsyncOperation", url), fake.lros.retry_header())
    return Reply(status, copy.deepcopy(resource), headers)


def _soft_deleted_conflict(fake: FakeArm, arm: ArmPath, body: JsonDict) -> Reply | None:
    suffix = f"/deletedservices/{arm.name.lower()}"
    for rid in list(fake.store.resources):
        if rid.endswith(suffix) and rid.startswith(f"/subscriptions/{arm.subscription}/"):
            if props_of(body).get("restore") is True:
                del fake.store.resources[rid]
                return None
            return error(
                409,
                "ServiceAlreadyExistsInSoftDeletedState",
                f"Api service {arm.name} was soft-deleted. In order to create the new service "
                "with the same name, you have to either undelete the service or purge it.",
            )
    return None


def patch(fake: FakeArm, arm: ArmPath, body: JsonDict, query: dict[str, str], base: str) -> Reply:
    existing = fake.store.get(arm.lower)
    if existing is None:
        return not_found(arm)
    refused = _apim_busy(fake, arm)
    if refused is not None:
        return refused
    merged = _merge(existing, body)
    for field in ("id", "name", "type", "etag", "systemData"):
        merged.pop(field, None)
    props = merged.get("properties")
    if isinstance(props, dict):
        props.pop("provisioningState", None)
    reply = put(fake, arm, merged, query, base)
    return Reply(200, reply.body, reply.headers) if reply.status < 300 else reply


def _merge(target: JsonDict, patch_body: JsonDict) -> JsonDict:
    out = copy.deepcopy(target)
    for key, value in patch_body.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = _merge(current, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def delete(fake: FakeArm, arm: ArmPath, base: str) -> Reply:
    kind = KINDS[arm.type_key]
    store = fake.store
    existing = store.get(arm.lower)
    if existing is None:
        if arm.type_key == RESOURCE_GROUPS:
            return error(
                404, "ResourceGroupNotFound", f"Resource group '{arm.name}' could not be found."
            )
        if arm.type_key.endswith("/deletedservices"):
            return not_found(arm)
        return Reply(204)
    refused = _apim_busy(fake, arm)
    if refused is not None:
        return refused
    if kind.delete == "200":
        store.delete_tree(arm.lower)
        body = existing if arm.type_key == "microsoft.authorization/roleassignments" else None
        return Reply(200, body)
    if kind.delete == "204":
        store.delete_tree(arm.lower)
        return Reply(204)
    return _start_delete_lro(fake, arm, kind, existing, base)


def _start_delete_lro(
    fake: FakeArm, arm: ArmPath, kind: Kind, existing: JsonDict, base: str
) -> Reply:
    store = fake.store
    if (
        "properties" in existing
        and arm.type_key != "microsoft.apimanagement/locations/deletedservices"
    ):
        props_of(store.resources[arm.lower])["provisioningState"] = "Deleting"

    def done() -> object | None:
        store.delete_tree(arm.lower)
        if arm.type_key == APIM_SERVICE:
            _soft_delete(fake, arm, existing)
        if arm.type_key.endswith("/deletedservices"):
            return existing
        return None

    def failed() -> None:
        current = store.resources.get(arm.lower)
        if current is not None and "properties" in current:
            props_of(current)["provisioningState"] = "Failed"

    op = fake.lros.start(
        "location",
        fake.lro_seconds_for(arm.type_key),
        fake.take_lro_failure(arm.path),
        done,
        failed,
    )
    url = _op_url(fake, kind, existing, base, "operationResults", op.op_id)
    retry = fake.lros.retry_header()
    if arm.type_key == RESOURCE_GROUPS:
        # azure-mgmt-resource deserializes this header as "int" (ResourceGroups._delete_initial),
        # so a fractional value would crash it; real ARM sends whole seconds here.
        retry = ("Retry-After", str(max(1, math.ceil(fake.retry_after))))
    return Reply(202, None, (("Location", url), retry))


def _soft_delete(fake: FakeArm, arm: ArmPath, service: JsonDict) -> None:
    region = _region(service)
    deleted_id = (
        f"/subscriptions/{arm.subscription}/providers/Microsoft.ApiManagement/locations/"
        f"{region}/deletedservices/{arm.name}"
    )
    when = datetime.now(UTC)
    fake.store.put(
        deleted_id.lower(),
        {
            "id": deleted_id,
            "name": arm.name,
            "type": "Microsoft.ApiManagement/deletedservices",
            "location": service.get("location"),
            "properties": {
                "serviceId": arm.path,
                "scheduledPurgeDate": (when + timedelta(hours=_SOFT_DELETE_HOURS)).isoformat(),
                "deletionDate": when.isoformat(),
            },
        },
    )


def list_keys(fake: FakeArm, arm: ArmPath) -> Reply:
    target = arm.lower.rsplit("/", 1)[0]
    keys = fake.store.keys.get(target)
    if keys is None or target not in fake.store.resources:
        return not_found(parse_path(target))
    return Reply(200, dict(keys))
