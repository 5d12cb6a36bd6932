"""Validate request bodies against the ARM swagger files in ``shared/arm-specs``.

The specs are loaded once per process (module-level cache) because every test builds a
new FakeArm and re-reading 1 MB of JSON each time would dominate the suite's runtime.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeAlias

Json: TypeAlias = object
Schema: TypeAlias = dict[str, object]

_METHODS = ("put", "patch")

# Resource groups have no swagger in the shared folder; this hand-written schema covers the
# fields of Microsoft.Resources/resourceGroups PUT (ResourceGroup in the resources swagger).
_RESOURCE_GROUP_SCHEMA: Schema = {
    "type": "object",
    "required": ["location"],
    "properties": {
        "id": {"type": "string", "readOnly": True},
        "name": {"type": "string", "readOnly": True},
        "type": {"type": "string", "readOnly": True},
        "location": {"type": "string"},
        "managedBy": {"type": "string"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "properties": {
            "type": "object",
            "properties": {"provisioningState": {"type": "string", "readOnly": True}},
        },
    },
}
_RESOURCE_GROUP_PATH = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+$", re.IGNORECASE)


def shared_dir() -> Path:
    """The shared folder: env override, else the sibling of the repository checkout."""
    override = os.environ.get("BATCHGW_SHARED_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared"


@dataclass(frozen=True, slots=True)
class _Operation:
    method: str
    pattern: re.Pattern[str]
    literal_chars: int
    file: Path
    body_schema: Schema | None


@dataclass(frozen=True, slots=True)
class _Ref:
    """A schema node together with the file it lives in (needed to resolve relative refs)."""

    node: Schema
    file: Path


@cache
def _load(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _pointer(doc: dict[str, object], pointer: str) -> object | None:
    node: object = doc
    for part in pointer.strip("/").split("/"):
        if not part:
            continue
        if not isinstance(node, dict):
            return None
        found = node.get(part)
        if found is None:
            # The stored common-types v3 spells 'SystemData' while apimdeployment.json asks
            # for 'systemData' (see arm-specs/README.md): fall back to a case-blind lookup.
            found = next((v for k, v in node.items() if k.lower() == part.lower()), None)
        node = found
    return node


def _resolve(node: Schema, file: Path) -> _Ref | None:
    """Follow $ref chains; None when the target file was not saved (dangling ref)."""
    seen = 0
    while "$ref" in node:
        ref = str(node["$ref"])
        target, _, pointer = ref.partition("#")
        target_file = (file.parent / target).resolve() if target else file
        if not target_file.exists():
            return None
        found = _pointer(_load(target_file), pointer)
        if not isinstance(found, dict):
            return None
        node, file = found, target_file
        seen += 1
        if seen > 50:
            return None
    return _Ref(node, file)


def _skip_encoding_params(params: list[object], file: Path) -> set[str]:
    names: set[str] = set()
    for raw in params:
        if not isinstance(raw, dict):
            continue
        resolved = _resolve(raw, file)
        if resolved and resolved.node.get("x-ms-skip-url-encoding"):
            names.add(str(resolved.node.get("name")))
    return names


def _body_schema(params: list[object], file: Path) -> Schema | None:
    for raw in params:
        if not isinstance(raw, dict):
            continue
        resolved = _resolve(raw, file)
        if resolved and resolved.node.get("in") == "body":
            schema = resolved.node.get("schema")
            if isinstance(schema, dict):
                # Keep the file of the parameter so the schema's own refs resolve from there.
                return {"$ref_base": str(resolved.file), **schema}
    return None


def _template_regex(template: str, multi_segment: set[str]) -> tuple[re.Pattern[str], int]:
    parts: list[str] = []
    literal = 0
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            parts.append(".+" if piece[1:-1] in multi_segment else "[^/]+")
        else:
            parts.append(re.escape(piece))
            literal += len(piece)
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE), literal


@cache
def _operations(root: Path) -> tuple[_Operation, ...]:
    ops: list[_Operation] = []
    for file in sorted((root / "arm-specs" / "specification").rglob("*.json")):
        if "examples" in file.parts:
            continue
        doc = _load(file.resolve())
        paths = doc.get("paths")
        if not isinstance(paths, dict):
            continue
        for template, item in paths.items():
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters", [])
            for method in _METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                params = [*shared, *op.get("parameters", [])]
                multi = _skip_encoding_params(params, file.resolve())
                pattern, literal = _template_regex(template, multi)
                if literal <= 1:
                    continue  # "/{roleAssignmentId}" would match every path: by-id twins only
                body = _body_schema(params, file.resolve())
                ops.append(_Operation(method, pattern, literal, file.resolve(), body))
    return tuple(ops)


def find_body_schema(method: str, path: str) -> tuple[Schema, Path] | None:
    """The body schema of the most specific swagger operation matching method + path."""
    if method.lower() == "put" and _RESOURCE_GROUP_PATH.match(path):
        return _RESOURCE_GROUP_SCHEMA, Path(__file__)
    matches = [
        op
        for op in _operations(shared_dir())
        if op.method == method.lower() and op.pattern.match(path) and op.body_schema is not None
    ]
    if not matches:
        return None
    best = max(matches, key=lambda op: op.literal_chars)
    assert best.body_schema is not None
    schema = dict(best.body_schema)
    base = Path(str(schema.pop("$ref_base")))
    return schema, base


def validate_body(method: str, path: str, body: Json) -> list[str] | None:
    """Violations of body against the matching swagger operation; None if no operation matches."""
    found = find_body_schema(method, path)
    if found is None:
        return None
    schema, file = found
    errors: list[str] = []
    _Validator(errors).check(schema, file, body, "body")
    return [e for e in errors if not _known_spec_gap(path, body, e)]


_POOL_OPTIONAL = frozenset(
    {
        "body.properties.url: required property missing",
        "body.properties.protocol: required property missing",
    }
)


def _known_spec_gap(path: str, body: Json, error: str) -> bool:
    """Errors the real service does not raise although the swagger says so.

    BackendContractProperties requires url and protocol, yet the spec's own example
    ApiManagementCreateBackendWithPriorityBasedLoadBalancer.json creates a Pool backend with
    neither, and APIM accepts it: a Pool has no url of its own.
    """
    if error not in _POOL_OPTIONAL or "/backends/" not in path.lower():
        return False
    props = body.get("properties") if isinstance(body, dict) else None
    return isinstance(props, dict) and str(props.get("type", "")).lower() == "pool"


@dataclass(frozen=True, slots=True)
class _Merged:
    properties: dict[str, _Ref]
    required: frozenset[str]
    additional: _Ref | bool | None
    type: str | None
    enum: tuple[object, ...] | None
    enum_ci: bool
    items: _Ref | None
    read_only: bool
    nullable: bool
    free_form: bool


def _as_list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _merge(ref: _Ref) -> _Merged:
    props: dict[str, _Ref] = {}
    required: set[str] = set()
    typ = ref.node.get("type")
    free_form = False
    for parent in _as_list(ref.node.get("allOf")):
        if not isinstance(parent, dict):
            continue
        resolved = _resolve(parent, ref.file)
        if resolved is None:
            free_form = True  # a dangling base type: cannot know its fields
            continue
        merged = _merge(resolved)
        props.update(merged.properties)
        required |= merged.required
        typ = typ or merged.type
        free_form = free_form or merged.free_form
    own = ref.node.get("properties", {})
    if isinstance(own, dict):
        for name, sub in own.items():
            if isinstance(sub, dict):
                props[name] = _Ref(sub, ref.file)
    required |= {str(r) for r in _as_list(ref.node.get("required"))}
    additional_raw = ref.node.get("additionalProperties")
    additional: _Ref | bool | None
    if isinstance(additional_raw, dict):
        additional = _Ref(additional_raw, ref.file)
    elif isinstance(additional_raw, bool):
        additional = additional_raw
    else:
        additional = None
    enum_raw = ref.node.get("enum")
    x_enum = ref.node.get("x-ms-enum")
    items_raw = ref.node.get("items")
    return _Merged(
        properties=props,
        required=frozenset(required),
        additional=additional,
        type=str(typ) if typ else None,
        enum=tuple(enum_raw) if isinstance(enum_raw, list) else None,
        enum_ci=isinstance(x_enum, dict) and bool(x_enum.get("modelAsString")),
        items=_Ref(items_raw, ref.file) if isinstance(items_raw, dict) else None,
        read_only=bool(ref.node.get("readOnly")),
        nullable=bool(ref.node.get("x-nullable")),
        free_form=free_form,
    )


class _Validator:
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors

    def check(self, node: Schema, file: Path, value: Json, where: str) -> None:
        resolved = _resolve(node, file)
        if resolved is None:
            return  # dangling ref (privatelinks/managedidentity not saved): accept anything
        merged = _merge(resolved)
        if value is None:
            if not merged.nullable:
                self.errors.append(f"{where}: null is not allowed")
            return
        if merged.enum is not None and not self._in_enum(merged, value):
            self.errors.append(f"{where}: {value!r} is not one of {list(merged.enum)}")
            return
        kind = merged.type or ("object" if merged.properties or merged.additional else None)
        if kind == "object":
            self._check_object(merged, value, where)
        elif kind == "array":
            self._check_array(merged, value, where)
        elif kind is not None:
            self._check_scalar(kind, value, where)

    @staticmethod
    def _in_enum(merged: _Merged, value: Json) -> bool:
        assert merged.enum is not None
        if merged.enum_ci and isinstance(value, str):
            return value.lower() in {str(e).lower() for e in merged.enum}
        return value in merged.enum

    def _check_scalar(self, kind: str, value: Json, where: str) -> None:
        ok = {
            "string": isinstance(value, str),
            "integer": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "boolean": isinstance(value, bool),
        }.get(kind, True)
        if not ok:
            self.errors.append(f"{where}: expected {kind}, got {type(value).__name__}")

    def _check_array(self, merged: _Merged, value: Json, where: str) -> None:
        if not isinstance(value, list):
            self.errors.append(f"{where}: expected array, got {type(value).__name__}")
            return
        if merged.items is None:
            return
        for index, item in enumerate(value):
            self.check(merged.items.node, merged.items.file, item, f"{where}[{index}]")

    def _check_object(self, merged: _Merged, value: Json, where: str) -> None:
        if not isinstance(value, dict):
            self.errors.append(f"{where}: expected object, got {type(value).__name__}")
            return
        for name in sorted(merged.required - value.keys()):
            self.errors.append(f"{where}.{name}: required property missing")
        free = merged.free_form or (not merged.properties and merged.additional is None)
        for name, sub_value in value.items():
            sub = merged.properties.get(name)
            if sub is not None:
                resolved = _resolve(sub.node, sub.file)
                if sub.node.get("readOnly") or (resolved and resolved.node.get("readOnly")):
                    self.errors.append(f"{where}.{name}: readOnly property must not be sent")
                    continue
                self.check(sub.node, sub.file, sub_value, f"{where}.{name}")
            elif isinstance(merged.additional, _Ref):
                add = merged.additional
                self.check(add.node, add.file, sub_value, f"{where}.{name}")
            elif merged.additional is True or free:
                continue
            else:
                self.errors.append(f"{where}.{name}: property not in the spec")
