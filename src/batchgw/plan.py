"""The plan as data: what changes, field by field. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Unknown:
    """A value only Azure can tell, after the resource exists."""

    def __str__(self) -> str:
        return "(known after apply)"


@dataclass(frozen=True, slots=True)
class Sensitive:
    """A secret: compared by nobody, shown to nobody."""

    def __str__(self) -> str:
        return "(sensitive)"


UNKNOWN = Unknown()
SENSITIVE = Sensitive()

Value = object


@dataclass(frozen=True, slots=True)
class Change:
    step: str
    action: Action
    type: str
    name: str
    id: str
    diff: Mapping[str, tuple[Value, Value]] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def summary(self) -> dict[str, int]:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def for_step(self, step: str) -> tuple[Change, ...]:
        return tuple(change for change in self.changes if change.step == step)


def same(before: Value, after: Value, *, fold_case: bool = False) -> bool:
    """Equality as ARM means it: case-folded where ARM is case-insensitive; unknowns differ."""
    if isinstance(after, Unknown | Sensitive):
        return False
    if fold_case and isinstance(before, str) and isinstance(after, str):
        return before.replace(" ", "").lower() == after.replace(" ", "").lower()
    return before == after


def diff_fields(
    desired: Mapping[str, Value],
    observed: Mapping[str, Value] | None,
    *,
    fold_case: Iterable[str] = (),
) -> dict[str, tuple[Value, Value]]:
    """Field-level diff of the keys batchgw sets; observed None means the resource is new."""
    folded = set(fold_case)
    result: dict[str, tuple[Value, Value]] = {}
    for key, after in desired.items():
        before = None if observed is None else observed.get(key)
        if observed is None or not same(before, after, fold_case=key in folded):
            result[key] = (before, after)
    return result


def created(desired: Mapping[str, Value]) -> dict[str, tuple[Value, Value]]:
    return {key: (None, value) for key, value in desired.items()}


def deleted(observed: Mapping[str, Value]) -> dict[str, tuple[Value, Value]]:
    return {key: (value, None) for key, value in observed.items()}
