"""Plain .NET value types that policy expressions meet: Guid, DateTime, TimeSpan, enums, pairs.

Each C#-visible object derives from `CsObject`: a property `Name` is the Python attribute
`cs_Name`, and a method `Name(...)` is `call_Name(type_args, *args, **named_args)`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from typing import ClassVar

from batchgw.simulator.errors import CSharpError, UnsupportedPolicyError
from batchgw.simulator.jtoken import JArray, JObject, JToken


class CsObject:
    """A C#-visible object; unknown members fail loudly."""

    cs_type: ClassVar[str] = "object"

    def cs_member(self, name: str) -> object:
        try:
            return getattr(self, "cs_" + name)
        except AttributeError:
            raise UnsupportedPolicyError(
                f"member `{self.cs_type}.{name}` is not modelled"
            ) from None

    def cs_call(
        self, name: str, type_args: tuple[str, ...], args: list[object], named: dict[str, object]
    ) -> object:
        method: Callable[..., object] | None = getattr(self, "call_" + name, None)
        if method is None:
            if name == "ToString" and not args:
                return self.cs_string()
            if name == "Equals" and len(args) == 1:
                return self == args[0]
            raise UnsupportedPolicyError(f"method `{self.cs_type}.{name}()` is not modelled")
        return method(type_args, *args, **named)

    def cs_string(self) -> str:
        raise UnsupportedPolicyError(f"`{self.cs_type}.ToString()` is not modelled")


class CsEnum(CsObject):
    """An enum member (Formatting.None, StringComparison.OrdinalIgnoreCase, JTokenType.Null)."""

    cs_type = "enum"

    def __init__(self, enum: str, name: str) -> None:
        self.enum = enum
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CsEnum) and (other.enum, other.name) == (self.enum, self.name)

    def __hash__(self) -> int:
        return hash((self.enum, self.name))

    def cs_string(self) -> str:
        return self.name


class CsGuid(CsObject):
    cs_type = "Guid"

    def __init__(self, value: uuid.UUID) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CsGuid) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def cs_string(self) -> str:
        return str(self.value)

    def call_ToString(self, _t: tuple[str, ...], fmt: str = "D") -> str:
        if fmt.upper() == "N":
            return self.value.hex
        if fmt.upper() == "D":
            return str(self.value)
        raise UnsupportedPolicyError(f'Guid.ToString("{fmt}") is not modelled')


class CsTimeSpan(CsObject):
    cs_type = "TimeSpan"

    def __init__(self, value: dt.timedelta) -> None:
        self.value = value

    @property
    def cs_TotalSeconds(self) -> float:
        return self.value.total_seconds()

    @property
    def cs_TotalMilliseconds(self) -> float:
        return self.value.total_seconds() * 1000

    @property
    def cs_Seconds(self) -> int:
        return int(self.value.total_seconds()) % 60

    def cs_string(self) -> str:
        return str(self.value)


class CsDateTime(CsObject):
    cs_type = "DateTime"

    def __init__(self, value: dt.datetime) -> None:
        self.value = value

    def __lt__(self, other: CsDateTime) -> bool:
        return self.value < other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CsDateTime) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    @property
    def cs_Ticks(self) -> int:
        epoch = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
        return (self.value - epoch) // dt.timedelta(microseconds=1) * 10

    def cs_string(self) -> str:
        return self.value.strftime("%m/%d/%Y %H:%M:%S")

    def call_ToString(self, _t: tuple[str, ...], fmt: str = "") -> str:
        if fmt in ("o", "O"):
            return self.value.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
        if fmt in ("s",):
            return self.value.strftime("%Y-%m-%dT%H:%M:%S")
        if not fmt:
            return self.cs_string()
        raise UnsupportedPolicyError(f'DateTime.ToString("{fmt}") is not modelled')

    def call_AddSeconds(self, _t: tuple[str, ...], seconds: float) -> CsDateTime:
        return CsDateTime(self.value + dt.timedelta(seconds=seconds))

    def call_AddMinutes(self, _t: tuple[str, ...], minutes: float) -> CsDateTime:
        return CsDateTime(self.value + dt.timedelta(minutes=minutes))

    def call_Subtract(self, _t: tuple[str, ...], other: CsDateTime) -> CsTimeSpan:
        return CsTimeSpan(self.value - other.value)


class CsDateTimeOffset(CsDateTime):
    cs_type = "DateTimeOffset"

    def call_ToUnixTimeSeconds(self, _t: tuple[str, ...]) -> int:
        return int(self.value.timestamp())

    def call_ToUnixTimeMilliseconds(self, _t: tuple[str, ...]) -> int:
        return int(self.value.timestamp() * 1000)


class KeyValuePair(CsObject):
    cs_type = "KeyValuePair"

    def __init__(self, key: object, value: object) -> None:
        self.cs_Key = key
        self.cs_Value = value


class CsDict(CsObject):
    """IReadOnlyDictionary<string, T> (MatchedParameters, Variables, Url.Query)."""

    cs_type = "IReadOnlyDictionary"

    def __init__(
        self, items: dict[str, object] | None = None, *, ignore_case: bool = False
    ) -> None:
        self.ignore_case = ignore_case
        self.items: dict[str, object] = {}
        for k, v in (items or {}).items():
            self.put(k, v)

    def _key(self, key: str) -> str:
        return key.lower() if self.ignore_case else key

    def put(self, key: str, value: object) -> None:
        self.items[self._key(key)] = value

    def lookup(self, key: str) -> tuple[bool, object]:
        k = self._key(key)
        return (k in self.items, self.items.get(k))

    def remove(self, key: str) -> None:
        self.items.pop(self._key(key), None)

    def index(self, key: object) -> object:
        if not isinstance(key, str):
            raise CSharpError("ArgumentNullException", "key is null")
        found, value = self.lookup(key)
        if not found:
            raise CSharpError("KeyNotFoundException", f"the given key '{key}' was not present")
        return value

    def __iter__(self) -> Iterator[KeyValuePair]:
        return iter([KeyValuePair(k, v) for k, v in self.items.items()])

    @property
    def cs_Count(self) -> int:
        return len(self.items)

    @property
    def cs_Keys(self) -> list[object]:
        return list(self.items)

    def call_ContainsKey(self, _t: tuple[str, ...], key: str) -> bool:
        return self.lookup(key)[0]

    def call_GetValueOrDefault(
        self, type_args: tuple[str, ...], key: str, default: object = None
    ) -> object:
        found, value = self.lookup(key)
        if not found:
            return default
        if type_args:
            check_type(value, type_args[0], f'GetValueOrDefault<{type_args[0]}>("{key}")')
        return value


def check_type(value: object, type_name: str, what: str) -> None:
    """The InvalidCastException a generic accessor throws when the stored type differs."""
    expected: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "String": str,
        "int": int,
        "long": int,
        "bool": bool,
        "JObject": JObject,
        "JArray": JArray,
        "JToken": JToken,
    }
    kind = expected.get(type_name)
    if kind is None:
        return
    if value is not None and not isinstance(value, kind):
        raise CSharpError("InvalidCastException", f"{what}: stored value is {type(value).__name__}")
