"""ensure_apis: the three gateway APIs, their operations and their API-level policies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from batchgw.gateway.apis import ApiSpec, OperationSpec, api_skeletons
from batchgw.gateway.canonical import canonical_policy
from batchgw.model import Desired
from batchgw.plan import UNKNOWN, Action, Change, Value, created, deleted, diff_fields
from batchgw.steps.base import Ctx, Event, Known, get_or_none, guarded, not_found, write

NAME = "ensure_apis"
API_TYPE = "Microsoft.ApiManagement/service/apis"
OPERATION_TYPE = "Microsoft.ApiManagement/service/apis/operations"
POLICY_TYPE = "Microsoft.ApiManagement/service/apis/policies"
API_IDS = ("openai", "openai-sticky", "openai-realtime")
SUBSCRIPTION_HEADER = "Ocp-Apim-Subscription-Key"


@dataclass(frozen=True, slots=True)
class ApiObserved:
    fields: dict[str, Value] | None
    operations: dict[str, dict[str, Value]]
    policy: str | None


@dataclass(frozen=True, slots=True)
class ApisObserved:
    apis: dict[str, ApiObserved]


def api_fields(api: ApiSpec) -> dict[str, Value]:
    return {
        "path": api.path,
        "displayName": api.display_name,
        "protocols": ["https"],
        "subscriptionRequired": True,
        "subscriptionKeyParameterNames.header": SUBSCRIPTION_HEADER,
    }


def operation_fields(op: OperationSpec) -> dict[str, Value]:
    return {
        "method": op.method.upper(),
        "urlTemplate": op.url_template,
        "displayName": op.display_name,
        "templateParameters": sorted(op.template_parameters),
    }


class ApisStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ("ensure_backends",)

    def read(self, ctx: Ctx, known: Known) -> ApisObserved:
        # One list of the APIs plus each API's operations and policy, all at once: a plan
        # costs one round trip here, and the request count does not grow with operations.
        with ThreadPoolExecutor(max_workers=1 + 2 * len(API_IDS)) as pool:
            listed = pool.submit(_list_apis, ctx)
            details = {api_id: _submit_details(pool, ctx, api_id) for api_id in API_IDS}
            apis = listed.result()
            found = {
                api_id: _observe(apis.get(api_id), ops.result(), policy.result())
                for api_id, (ops, policy) in details.items()
            }
        return ApisObserved(apis=found)

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, ApisObserved)
        base = f"{desired.apim.id}/apis"
        # Offline, before the regions are known, the policies can't be rendered yet.
        policies_known = desired.apis is not None
        changes: list[Change] = []
        for api in desired.apis or api_skeletons():
            seen = observed.apis.get(api.api_id, ApiObserved(None, {}, None))
            api_id = f"{base}/{api.api_id}"
            if seen.fields is None:
                changes.append(
                    Change(
                        NAME, Action.CREATE, API_TYPE, api.api_id, api_id, created(api_fields(api))
                    )
                )
            else:
                changed = diff_fields(api_fields(api), seen.fields)
                if changed:
                    changes.append(
                        Change(NAME, Action.UPDATE, API_TYPE, api.api_id, api_id, changed)
                    )
            changes.extend(_operation_changes(api, seen, api_id))
            if policies_known:
                changes.extend(_policy_changes(api, seen, api_id))
            elif seen.policy is None:
                policy_id = f"{api_id}/policies/policy"
                unknown = {"policy": (None, UNKNOWN)}
                changes.append(
                    Change(
                        NAME, Action.CREATE, POLICY_TYPE, f"{api.api_id}/policy", policy_id, unknown
                    )
                )
        return changes

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        changes = self.diff(ctx.desired, observed, known)
        apis = ctx.desired.apis or ()
        todo = [
            api
            for api in apis
            if any(c.id.startswith(f"{ctx.desired.apim.id}/apis/{api.api_id}") for c in changes)
        ]
        if todo:
            with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                list(pool.map(lambda api: _apply_api(ctx, api, changes), todo))
        return {}

    def outputs(self, observed: object) -> dict[str, object]:
        return {}


def _list_apis(ctx: Ctx) -> dict[str, Any]:
    rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
    arm_id = f"{ctx.desired.apim.id}/apis"

    def listing() -> list[Any]:
        return list(ctx.clients.apim.api.list_by_service(rg, service))

    found = guarded(NAME, arm_id, "listing", partial(get_or_none, listing))
    return {str(api.name): api for api in found or []}


def _submit_details(pool: ThreadPoolExecutor, ctx: Ctx, api_id: str) -> tuple[Any, Any]:
    rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
    arm_id = f"{ctx.desired.apim.id}/apis/{api_id}"
    get_policy = partial(
        ctx.clients.apim.api_policy.get, rg, service, api_id, "policy", format="rawxml"
    )
    ops = pool.submit(
        guarded, NAME, f"{arm_id}/operations", "listing", partial(_list_operations, ctx, api_id)
    )
    policy = pool.submit(
        guarded, NAME, f"{arm_id}/policies/policy", "reading", partial(get_or_none, get_policy)
    )
    return ops, policy


def _observe(api: Any, operations: list[Any], policy: Any) -> ApiObserved:
    if api is None:
        return ApiObserved(None, {}, None)
    keys = api.subscription_key_parameter_names
    return ApiObserved(
        fields={
            "path": api.path,
            "displayName": api.display_name,
            "protocols": sorted(str(p).lower() for p in api.protocols or []),
            "subscriptionRequired": bool(api.subscription_required),
            "subscriptionKeyParameterNames.header": keys.header if keys else None,
        },
        operations={
            str(op.name): {
                "method": str(op.method or "").upper(),
                "urlTemplate": op.url_template,
                "displayName": op.display_name,
                "templateParameters": sorted(p.name for p in op.template_parameters or []),
            }
            for op in operations
        },
        policy=None if policy is None else str(policy.value or ""),
    )


def _operation_changes(api: ApiSpec, seen: ApiObserved, api_id: str) -> list[Change]:
    changes: list[Change] = []
    wanted = {op.operation_id for op in api.operations}
    for op in api.operations:
        op_id = f"{api_id}/operations/{op.operation_id}"
        name = f"{api.api_id}/{op.operation_id}"
        before = seen.operations.get(op.operation_id)
        if before is None:
            changes.append(
                Change(
                    NAME, Action.CREATE, OPERATION_TYPE, name, op_id, created(operation_fields(op))
                )
            )
            continue
        changed = diff_fields(operation_fields(op), before, fold_case=("method",))
        if changed:
            changes.append(Change(NAME, Action.UPDATE, OPERATION_TYPE, name, op_id, changed))
    for op_name, before in sorted(seen.operations.items()):
        if op_name not in wanted:
            changes.append(
                Change(
                    NAME,
                    Action.DELETE,
                    OPERATION_TYPE,
                    f"{api.api_id}/{op_name}",
                    f"{api_id}/operations/{op_name}",
                    deleted(before),
                )
            )
    return changes


def _policy_changes(api: ApiSpec, seen: ApiObserved, api_id: str) -> list[Change]:
    policy_id = f"{api_id}/policies/policy"
    name = f"{api.api_id}/policy"
    if seen.policy is None:
        return [
            Change(
                NAME,
                Action.CREATE,
                POLICY_TYPE,
                name,
                policy_id,
                {"policy": (None, api.policy_xml)},
            )
        ]
    if canonical_policy(seen.policy) == canonical_policy(api.policy_xml):
        return []
    return [
        Change(
            NAME,
            Action.UPDATE,
            POLICY_TYPE,
            name,
            policy_id,
            {"policy": (seen.policy, api.policy_xml)},
        )
    ]


def _apply_api(ctx: Ctx, api: ApiSpec, changes: list[Change]) -> None:
    from azure.mgmt.apimanagement.models import (
        ApiCreateOrUpdateParameter,
        OperationContract,
        ParameterContract,
        PolicyContract,
        SubscriptionKeyParameterNamesContract,
    )

    rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
    apim = ctx.clients.apim
    api_id = f"{ctx.desired.apim.id}/apis/{api.api_id}"
    mine = [c for c in changes if c.id == api_id or c.id.startswith(api_id + "/")]
    label = f"API {api.api_id}"
    ctx.report(Event("start", NAME, label, "configuring"))
    if any(c.type == API_TYPE for c in mine):
        body = ApiCreateOrUpdateParameter(
            path=api.path,
            display_name=api.display_name,
            protocols=["https"],
            subscription_required=True,
            subscription_key_parameter_names=SubscriptionKeyParameterNamesContract(
                header=SUBSCRIPTION_HEADER, query="subscription-key"
            ),
            api_type="http",
        )
        put_api = partial(
            apim.api.begin_create_or_update, rg, service, api.api_id, body, if_match="*"
        )
        write(ctx, NAME, api_id, "writing", lambda: put_api().result())
    ops = {op.operation_id: op for op in api.operations}

    def write_op(change: Change) -> None:
        op_name = change.name.split("/", 1)[1]
        if change.action is Action.DELETE:
            write(ctx, NAME, change.id, "deleting", partial(_delete_op, ctx, api.api_id, op_name))
            return
        op = ops[op_name]
        contract = OperationContract(
            display_name=op.display_name,
            method=op.method.upper(),
            url_template=op.url_template,
            template_parameters=[
                ParameterContract(name=p, type="string", required=True)
                for p in op.template_parameters
            ],
            responses=[],
        )
        put_op = partial(
            apim.api_operation.create_or_update,
            rg,
            service,
            api.api_id,
            op.operation_id,
            contract,
            if_match="*",
        )
        write(ctx, NAME, change.id, "writing", put_op)

    # Operations are independent children of the API: write them all at once.
    op_changes = [c for c in mine if c.type == OPERATION_TYPE]
    if op_changes:
        with ThreadPoolExecutor(max_workers=min(16, len(op_changes))) as pool:
            list(pool.map(write_op, op_changes))
    if any(c.type == POLICY_TYPE for c in mine):
        policy = PolicyContract(value=api.policy_xml, format="xml")
        put_policy = partial(
            apim.api_policy.create_or_update,
            rg,
            service,
            api.api_id,
            "policy",
            policy,
            if_match="*",
        )
        write(ctx, NAME, f"{api_id}/policies/policy", "writing", put_policy)
    ctx.report(Event("done", NAME, label, "configured"))


def _list_operations(ctx: Ctx, api_id: str) -> list[Any]:
    rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
    found = get_or_none(
        lambda: list(ctx.clients.apim.api_operation.list_by_api(rg, service, api_id))
    )
    return found or []


def _delete_op(ctx: Ctx, api_id: str, op_name: str) -> None:
    from azure.core.exceptions import HttpResponseError

    rg, service = ctx.desired.resource_group.name, ctx.desired.apim.name
    try:
        ctx.clients.apim.api_operation.delete(rg, service, api_id, op_name, "*")
    except HttpResponseError as exc:
        if not not_found(exc):
            raise
