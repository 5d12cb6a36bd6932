"""ensure_apim: the API Management service with a system-assigned identity."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from batchgw.errors import AzureCallError, BlockedChangeError
from batchgw.model import ApimSpec, Desired
from batchgw.plan import UNKNOWN, Action, Change, Value, created, diff_fields
from batchgw.steps.base import SETTLED, Ctx, Event, Known, get_or_none, guarded, settle

NAME = "ensure_apim"
TYPE = "Microsoft.ApiManagement/service"
V2 = {"basicv2", "standardv2", "premiumv2"}


@dataclass(frozen=True, slots=True)
class ApimObserved:
    fields: dict[str, Value] | None
    tags: dict[str, str] | None = None
    principal_id: str = ""
    gateway_url: str = ""
    state: str = ""
    soft_deleted: bool = False


def desired_fields(spec: ApimSpec) -> dict[str, Value]:
    return {
        "location": spec.location,
        "sku.name": spec.sku,
        "sku.capacity": spec.capacity,
        "publisherName": spec.publisher_name,
        "publisherEmail": spec.publisher_email,
        "identity.type": "SystemAssigned",
        "tags": spec.tags,
    }


class ApimStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ("resource_group",)

    def read(self, ctx: Ctx, known: Known) -> ApimObserved:
        spec = ctx.desired.apim
        rg = ctx.desired.resource_group.name
        service = guarded(
            NAME,
            spec.id,
            "reading",
            lambda: get_or_none(lambda: ctx.clients.apim.api_management_service.get(rg, spec.name)),
        )
        if service is None:
            deleted = guarded(
                NAME,
                spec.id,
                "checking soft-deleted",
                lambda: get_or_none(
                    lambda: ctx.clients.apim.deleted_services.get_by_name(spec.name, spec.location)
                ),
            )
            return ApimObserved(fields=None, soft_deleted=deleted is not None)
        identity = service.identity
        return ApimObserved(
            fields={
                "location": service.location,
                "sku.name": service.sku.name,
                "sku.capacity": service.sku.capacity,
                "publisherName": service.publisher_name,
                "publisherEmail": service.publisher_email,
                "identity.type": identity.type if identity else None,
                "tags": dict(service.tags or {}),
            },
            tags=dict(service.tags or {}),
            principal_id=str(identity.principal_id or "") if identity else "",
            gateway_url=str(service.gateway_url or ""),
            state=str(service.provisioning_state or ""),
        )

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, ApimObserved)
        spec = desired.apim
        if observed.fields is None:
            if observed.soft_deleted:
                raise AzureCallError(
                    f"API Management name `{spec.name}` is held by a soft-deleted service "
                    f"in {spec.location}",
                    "run `batchgw teardown --purge` to purge it, or use another `environment`",
                    step=NAME,
                    resource_id=spec.id,
                    arm_code="ServiceAlreadyExistsInSoftDeletedState",
                )
            fields = created(desired_fields(spec))
            fields["identity.principalId"] = (None, UNKNOWN)
            fields["gatewayUrl"] = (None, UNKNOWN)
            return [Change(NAME, Action.CREATE, TYPE, spec.name, spec.id, fields)]
        changed = diff_fields(
            desired_fields(spec),
            observed.fields,
            fold_case=("location", "sku.name", "identity.type"),
        )
        if "location" in changed:
            raise BlockedChangeError(
                f"API Management `{spec.name}` is in {observed.fields['location']}, config says "
                f"{spec.location}; the location of a service cannot change",
                "set `location` back, or tear down and deploy again",
            )
        if "sku.name" in changed:
            before = str(observed.fields["sku.name"]).lower()
            if (before in V2) != (spec.sku.lower() in V2):
                raise BlockedChangeError(
                    f"API Management `{spec.name}` cannot move between classic and v2 tiers "
                    f"({observed.fields['sku.name']} -> {spec.sku})",
                    "keep the tier family, or tear down and deploy again",
                )
        if observed.state.lower() == "failed":
            # A failed create or update is repaired by sending the desired state again.
            changed["provisioningState"] = ("Failed", "Succeeded")
        if not changed:
            return []
        return [Change(NAME, Action.UPDATE, TYPE, spec.name, spec.id, changed)]

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        assert isinstance(observed, ApimObserved)
        changes = self.diff(ctx.desired, observed, known)
        if not changes:
            return self.outputs(observed)
        from azure.mgmt.apimanagement.models import (
            ApiManagementServiceIdentity,
            ApiManagementServiceResource,
            ApiManagementServiceSkuProperties,
            ApiManagementServiceUpdateParameters,
        )

        spec = ctx.desired.apim
        rg = ctx.desired.resource_group.name
        label = f"API Management {spec.name}"
        service_ops = ctx.clients.apim.api_management_service
        sku = ApiManagementServiceSkuProperties(name=spec.sku, capacity=spec.capacity)
        identity = ApiManagementServiceIdentity(type="SystemAssigned")
        if changes[0].action is Action.CREATE:
            verb = "creating"
            body = ApiManagementServiceResource(
                location=spec.location,
                sku=sku,
                publisher_email=spec.publisher_email,
                publisher_name=spec.publisher_name,
                identity=identity,
                tags=spec.tags,
            )
            ctx.report(Event("start", NAME, label, verb + " (Developer tier takes 30-45 min)"))
            call = partial(service_ops.begin_create_or_update, rg, spec.name, body)
        else:
            # PATCH only what batchgw owns: a PUT would reset what others configured on the
            # service (custom domains, VNet, certificates).
            verb = "updating"
            patch = ApiManagementServiceUpdateParameters(
                sku=sku,
                publisher_email=spec.publisher_email,
                publisher_name=spec.publisher_name,
                identity=identity,
                tags=spec.tags,
            )
            ctx.report(Event("start", NAME, label, verb))
            call = partial(service_ops.begin_update, rg, spec.name, patch)
        service = guarded(NAME, spec.id, verb, lambda: call().result())
        ctx.report(Event("done", NAME, label, verb.replace("ing", "ed")))
        # The principal is only dependable once the create operation has finished.
        principal = str(service.identity.principal_id or "") if service.identity else ""
        return {"principal_id": principal, "gateway_url": str(service.gateway_url or "")}

    def outputs(self, observed: object) -> dict[str, object]:
        assert isinstance(observed, ApimObserved)
        return {"principal_id": observed.principal_id, "gateway_url": observed.gateway_url}

    def settle(self, ctx: Ctx, observed: object) -> dict[str, object]:
        """A service an interrupted deploy left activating: wait, then take its identity."""
        assert isinstance(observed, ApimObserved)
        if observed.fields is None or observed.state.lower() in SETTLED:
            return self.outputs(observed)
        label = f"API Management {ctx.desired.apim.name}"
        settle(ctx, NAME, label, lambda: self.read(ctx, {}).state)
        return self.outputs(self.read(ctx, {}))
