"""Newtonsoft.Json's JToken model (JObject, JArray, JValue, JProperty), as much as policies use.

Differences from Python's json that matter for policies are kept: a missing property reads as C#
null while a JSON `null` reads as a JValue of type Null; casts convert like Newtonsoft's explicit
operators; `ToString()` of an object is indented JSON, of a string value the raw string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from batchgw.simulator.errors import CSharpError

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]


class JToken:
    """Base of the JSON token types."""

    def to_json(self) -> Json:
        raise NotImplementedError

    def type_name(self) -> str:
        raise NotImplementedError

    def to_text(self, *, indented: bool = True) -> str:
        return json.dumps(
            self.to_json(),
            indent=2 if indented else None,
            ensure_ascii=False,
            separators=None if indented else (",", ":"),
        )

    def cs_string(self) -> str:
        """What `ToString()` returns."""
        return self.to_text()

    def deep_clone(self) -> JToken:
        return from_json(self.to_json())


class JValue(JToken):
    __slots__ = ("value",)

    def __init__(self, value: bool | int | float | str | None) -> None:
        self.value = value

    def to_json(self) -> Json:
        return self.value

    def type_name(self) -> str:
        v = self.value
        if v is None:
            return "Null"
        if isinstance(v, bool):
            return "Boolean"
        if isinstance(v, int):
            return "Integer"
        if isinstance(v, float):
            return "Float"
        return "String"

    def cs_string(self) -> str:
        v = self.value
        if v is None:
            return ""
        if isinstance(v, bool):
            return "True" if v else "False"
        return str(v)


class JObject(JToken):
    __slots__ = ("props",)

    def __init__(self, props: dict[str, JToken] | None = None) -> None:
        self.props: dict[str, JToken] = props if props is not None else {}

    def to_json(self) -> Json:
        return {k: v.to_json() for k, v in self.props.items()}

    def type_name(self) -> str:
        return "Object"

    def get(self, key: str) -> JToken | None:
        return self.props.get(key)

    def set(self, key: str, value: object) -> None:
        self.props[key] = to_token(value)


class JArray(JToken):
    __slots__ = ("items",)

    def __init__(self, items: list[JToken] | None = None) -> None:
        self.items: list[JToken] = items if items is not None else []

    def to_json(self) -> Json:
        return [v.to_json() for v in self.items]

    def type_name(self) -> str:
        return "Array"

    def __iter__(self) -> Iterator[JToken]:
        return iter(list(self.items))

    def at(self, index: int) -> JToken:
        if not 0 <= index < len(self.items):
            raise CSharpError("ArgumentOutOfRangeException", f"index {index} out of range")
        return self.items[index]


class JProperty(JToken):
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: object) -> None:
        self.name = name
        self.value = to_token(value)

    def to_json(self) -> Json:
        return {self.name: self.value.to_json()}

    def type_name(self) -> str:
        return "Property"


def from_json(data: Json) -> JToken:
    if isinstance(data, dict):
        return JObject({k: from_json(v) for k, v in data.items()})
    if isinstance(data, list):
        return JArray([from_json(v) for v in data])
    return JValue(data)


def to_token(value: object) -> JToken:
    """Newtonsoft's implicit conversions into JToken (C# null becomes a Null JValue)."""
    if isinstance(value, JToken):
        return value
    if value is None or isinstance(value, bool | int | float | str):
        return JValue(value)
    if isinstance(value, list | tuple):
        return JArray([to_token(v) for v in value])
    raise CSharpError(
        "ArgumentException", f"could not determine JSON type for {type(value).__name__}"
    )


def parse(text: str, kind: str = "JToken") -> JToken:
    """JToken.Parse / JObject.Parse / JArray.Parse."""
    try:
        token = from_json(json.loads(text))
    except (json.JSONDecodeError, TypeError) as exc:
        raise CSharpError("JsonReaderException", f"error reading {kind}: {exc}") from exc
    if kind == "JObject" and not isinstance(token, JObject):
        raise CSharpError("JsonReaderException", "error reading JObject from JsonReader")
    if kind == "JArray" and not isinstance(token, JArray):
        raise CSharpError("JsonReaderException", "error reading JArray from JsonReader")
    return token


def cast_token(token: JToken, target: str) -> object:
    """Newtonsoft's explicit conversions: (string)t, (long)t, (int)t, (bool)t, (double)t."""
    if not isinstance(token, JValue):
        raise CSharpError("ArgumentException", f"can not convert {token.type_name()} to {target}")
    v = token.value
    nullable = target.endswith("?")
    base = target.rstrip("?")
    if v is None:
        if base == "string" or nullable:
            return None
        raise CSharpError("ArgumentException", f"can not convert Null to {target}")
    if base == "string":
        return token.cs_string() if not isinstance(v, str) else v
    if base in ("int", "long", "Int32", "Int64"):
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int | float):
            return int(v)
        if re.fullmatch(r"\s*[+-]?\d+\s*", v):
            return int(v)
        raise CSharpError("FormatException", f"input string '{v}' was not in a correct format")
    if base in ("bool", "Boolean"):
        if isinstance(v, str):
            if v.lower() in ("true", "false"):
                return v.lower() == "true"
            raise CSharpError("FormatException", f"string '{v}' was not recognized as a Boolean")
        return bool(v)
    if base in ("double", "float", "decimal", "Double"):
        try:
            return float(v)
        except ValueError as exc:
            raise CSharpError("FormatException", f"input string '{v}' is not a number") from exc
    raise CSharpError("InvalidCastException", f"can not convert JToken to {target}")


def select_token(token: JToken, path: str) -> JToken | None:
    """JToken.SelectToken for plain paths: `a.b`, `a[0].b`, `['a']`."""
    current: JToken | None = token
    for name, index in re.findall(r"\.?([^.\[\]]+)|\[(\d+)\]", path):
        if current is None:
            return None
        if index:
            current = (
                current.items[int(index)]
                if isinstance(current, JArray) and int(index) < len(current.items)
                else None
            )
        elif isinstance(current, JObject):
            current = current.get(name.strip("'"))
        else:
            return None
    return current
