"""The fake's state and reply helpers, shared by the handler modules."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from tests.fakes.ids import is_under

JsonDict = dict[str, object]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: object | None = None  # JSON-serialisable; None means an empty body
    headers: tuple[tuple[str, str], ...] = ()


def error(status: int, code: str, message: str, *headers: tuple[str, str]) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers)


@dataclass
class Store:
    """Everything that exists, keyed by lower-case ARM id, plus what GET never shows."""

    resources: dict[str, JsonDict] = field(default_factory=dict)
    keys: dict[str, JsonDict] = field(default_factory=dict)  # listKeys answers
    secrets: dict[str, str] = field(default_factory=dict)  # e.g. cache connection strings
    policies: dict[str, ET.Element] = field(default_factory=dict)
    fresh_principals: dict[str, int] = field(default_factory=dict)  # id -> RA PUTs seen
    violations: list[str] = field(default_factory=list)

    def get(self, lower_id: str) -> JsonDict | None:
        found = self.resources.get(lower_id)
        return copy.deepcopy(found) if found is not None else None

    def put(self, lower_id: str, resource: JsonDict) -> None:
        self.resources[lower_id] = resource

    def delete_tree(self, lower_id: str) -> None:
        """Remove a resource and everything beneath it (children and extension resources)."""
        for rid in [r for r in self.resources if is_under(r, lower_id)]:
            del self.resources[rid]
            self.keys.pop(rid, None)
            self.secrets.pop(rid, None)
            self.policies.pop(rid, None)

    def children(self, collection: str) -> list[JsonDict]:
        prefix = collection.rstrip("/") + "/"
        return [
            copy.deepcopy(res)
            for rid, res in self.resources.items()
            if rid.startswith(prefix) and "/" not in rid[len(prefix) :]
        ]
