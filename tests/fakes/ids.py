"""ARM id parsing for the fake: every path is a resource, a collection, or a resource group."""

from __future__ import annotations

from dataclasses import dataclass

RESOURCE_GROUPS = "microsoft.resources/resourcegroups"


@dataclass(frozen=True, slots=True)
class ArmPath:
    """A request path split the way ARM routes it (all fields lower-case except ``path``)."""

    path: str  # as sent, without a trailing slash
    lower: str
    type_key: str  # e.g. "microsoft.apimanagement/service/apis/policies"
    is_collection: bool
    name: str  # last segment as sent ("" for a collection)
    parent: str  # lower id of the parent resource, or of the scope for extension resources
    subscription: str  # lower subscription id or ""
    resource_group: str  # lower resource group id ("/subscriptions/s/resourcegroups/rg") or ""


def parse_path(path: str) -> ArmPath:
    path = "/" + path.strip("/")
    lower = path.lower()
    segs = path.split("/")[1:]
    low = lower.split("/")[1:]
    subscription = low[1] if len(low) > 1 and low[0] == "subscriptions" else ""
    resource_group = (
        "/".join(["", *low[:4]]) if len(low) >= 4 and low[2] == "resourcegroups" else ""
    )
    if "providers" not in low:
        return _without_provider(path, lower, segs, low, subscription, resource_group)
    at = len(low) - 1 - low[::-1].index("providers")
    namespace = low[at + 1] if at + 1 < len(low) else ""
    rest = low[at + 2 :]
    rest_sent = segs[at + 2 :]
    is_collection = len(rest) % 2 == 1
    types = rest[0::2]
    type_key = "/".join([namespace, *types])
    scope = "/".join(["", *low[:at]])
    if is_collection:
        parent = scope if len(rest) == 1 else "/".join(["", *low[:-1]])
        name = ""
    else:
        parent = scope if len(rest) == 2 else "/".join(["", *low[:-2]])
        name = rest_sent[-1] if rest_sent else ""
    return ArmPath(path, lower, type_key, is_collection, name, parent, subscription, resource_group)


def _without_provider(
    path: str, lower: str, segs: list[str], low: list[str], subscription: str, rg: str
) -> ArmPath:
    if len(low) == 4 and low[2] == "resourcegroups":
        return ArmPath(path, lower, RESOURCE_GROUPS, False, segs[3], "", subscription, rg)
    if len(low) == 3 and low[2] == "resourcegroups":
        return ArmPath(path, lower, RESOURCE_GROUPS, True, "", "", subscription, "")
    return ArmPath(path, lower, "", len(low) % 2 == 1, "", "", subscription, rg)


def is_under(child: str, ancestor: str) -> bool:
    """Whether lower-case id ``child`` equals ``ancestor`` or lies beneath it."""
    return child == ancestor or child.startswith(ancestor.rstrip("/") + "/")
