"""The resource group: created and tagged if missing; an existing one is used as it is."""

from __future__ import annotations

from dataclasses import dataclass

from batchgw.model import Desired
from batchgw.plan import Action, Change, created
from batchgw.steps.base import Ctx, Event, Known, get_or_none, guarded

NAME = "resource_group"
TYPE = "Microsoft.Resources/resourceGroups"


@dataclass(frozen=True, slots=True)
class GroupObserved:
    exists: bool
    location: str = ""
    tags: dict[str, str] | None = None


class ResourceGroupStep:
    name = NAME
    reads = NAME
    needs: tuple[str, ...] = ()

    def read(self, ctx: Ctx, known: Known) -> GroupObserved:
        rg = ctx.desired.resource_group
        found = guarded(
            NAME,
            rg.id,
            "reading",
            lambda: get_or_none(lambda: ctx.clients.resource.resource_groups.get(rg.name)),
        )
        if found is None:
            return GroupObserved(exists=False)
        return GroupObserved(exists=True, location=found.location, tags=dict(found.tags or {}))

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]:
        assert isinstance(observed, GroupObserved)
        rg = desired.resource_group
        if observed.exists:
            return []
        fields = {"location": rg.location, "tags": rg.tags}
        return [Change(NAME, Action.CREATE, TYPE, rg.name, rg.id, created(fields))]

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]:
        assert isinstance(observed, GroupObserved)
        if observed.exists:
            return self.outputs(observed)
        from azure.mgmt.resource.resources.models import ResourceGroup

        rg = ctx.desired.resource_group
        ctx.report(Event("start", NAME, f"resource group {rg.name}", "creating"))
        guarded(
            NAME,
            rg.id,
            "creating",
            lambda: ctx.clients.resource.resource_groups.create_or_update(
                rg.name, ResourceGroup(location=rg.location, tags=rg.tags)
            ),
        )
        ctx.report(Event("done", NAME, f"resource group {rg.name}", "created"))
        return {}

    def outputs(self, observed: object) -> dict[str, object]:
        return {}
