"""The .NET library surface policy expressions call: members, methods, statics, casts, LINQ.

Values are Python values (str, int, float, bool, None, list for arrays and lists), JTokens and
`CsObject`s. Anything not listed here raises `UnsupportedPolicyError`, never a guess.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from functools import cmp_to_key
from urllib.parse import quote, unquote

from batchgw.simulator import jtoken
from batchgw.simulator.context import CsUri, Headers
from batchgw.simulator.errors import CSharpError, UnsupportedPolicyError
from batchgw.simulator.jtoken import JArray, JObject, JProperty, JToken, JValue
from batchgw.simulator.values import (
    CsDateTime,
    CsDateTimeOffset,
    CsDict,
    CsEnum,
    CsGuid,
    CsObject,
    CsTimeSpan,
    KeyValuePair,
)

Fn = Callable[..., object]

ENUMS = {
    "Formatting": {"None", "Indented"},
    "StringComparison": {"Ordinal", "OrdinalIgnoreCase", "InvariantCultureIgnoreCase"},
    "JTokenType": {"Null", "String", "Integer", "Float", "Boolean", "Object", "Array", "Undefined"},
    "StringSplitOptions": {"None", "RemoveEmptyEntries", "TrimEntries"},
}
STATIC_TYPES = {
    "string",
    "String",
    "int",
    "Int32",
    "long",
    "Int64",
    "bool",
    "Boolean",
    "double",
    "Convert",
    "Guid",
    "DateTime",
    "DateTimeOffset",
    "TimeSpan",
    "Math",
    "JObject",
    "JArray",
    "JToken",
    "JValue",
    "JProperty",
    "Uri",
    "Encoding",
    "Enumerable",
    "Array",
    "Random",
    "char",
    "Char",
    *ENUMS,
}


NAMESPACES = {"System", "Newtonsoft"}


class Namespace:
    """A namespace prefix (`Newtonsoft.Json.Linq.JObject`, `System.String`)."""

    def __init__(self, name: str) -> None:
        self.name = name


class StaticType:
    """A type name used as an expression target (`string.Join`, `JObject.Parse`)."""

    def __init__(self, name: str) -> None:
        self.name = name


def cs_str(value: object) -> str:
    """C#'s ToString() / string concatenation of a value (null becomes "")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else str(int(value))
    if isinstance(value, JToken):
        return value.cs_string()
    if isinstance(value, CsObject):
        return value.cs_string()
    if isinstance(value, list):
        return "System.String[]"
    raise UnsupportedPolicyError(f"ToString() of {type(value).__name__} is not modelled")


def enumerate_cs(value: object) -> list[object]:
    """The items `foreach` or LINQ sees."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, JArray):
        return list(value.items)
    if isinstance(value, JObject):
        return [KeyValuePair(k, v) for k, v in value.props.items()]
    if isinstance(value, CsDict):
        return list(value)
    if isinstance(value, str):
        return list(value)
    if isinstance(value, Headers):
        return [KeyValuePair(k, v) for k, v in value.items()]
    if value is None:
        raise CSharpError("ArgumentNullException", "value cannot be null (source)")
    raise UnsupportedPolicyError(f"enumerating {type(value).__name__} is not modelled")


def truthy(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise UnsupportedPolicyError(f"{what} must be a bool, got {type(value).__name__}")
    return value


def cs_equals(a: object, b: object) -> bool:
    """`==` as C# resolves it for the types policies compare."""
    if a is None or b is None:
        return a is b
    if isinstance(a, JToken) or isinstance(b, JToken):
        if isinstance(a, JToken) and isinstance(b, JToken):
            return a is b
        raise UnsupportedPolicyError(
            "`==` between a JToken and a value is reference equality in C#; cast the token first"
        )
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b) and not (isinstance(a, CsObject) and isinstance(b, CsObject)):
        raise UnsupportedPolicyError(
            f"`==` between {type(a).__name__} and {type(b).__name__} is not modelled"
        )
    return a == b


def compare(a: object, b: object) -> int:
    if a is None or b is None:
        return (a is not None) - (b is not None)
    if isinstance(a, JValue):
        a = a.value
    if isinstance(b, JValue):
        b = b.value
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)  # ordinal, good enough for ids and ISO dates
    if isinstance(a, int | float) and isinstance(b, int | float):
        return (a > b) - (a < b)
    if isinstance(a, CsDateTime) and isinstance(b, CsDateTime):
        return (a.value > b.value) - (a.value < b.value)
    raise UnsupportedPolicyError(f"ordering {type(a).__name__} against {type(b).__name__}")


# ---------------------------------------------------------------- members


def get_member(target: object, name: str) -> object:
    if target is None:
        raise CSharpError("NullReferenceException", f"object reference not set (reading .{name})")
    if isinstance(target, StaticType):
        return static_member(target.name, name)
    if isinstance(target, Namespace):
        return StaticType(name) if name in STATIC_TYPES else Namespace(f"{target.name}.{name}")
    if isinstance(target, CsObject):
        return target.cs_member(name)
    if isinstance(target, str) and name == "Length":
        return len(target)
    if isinstance(target, list) and name in ("Length", "Count"):
        return len(target)
    if isinstance(target, JToken):
        return token_member(target, name)
    raise UnsupportedPolicyError(f"member `{name}` of {type(target).__name__} is not modelled")


def token_member(token: JToken, name: str) -> object:
    if name == "Type":
        return CsEnum("JTokenType", token.type_name())
    if name == "Count" and isinstance(token, JObject):
        return len(token.props)
    if name == "Count" and isinstance(token, JArray):
        return len(token.items)
    if name == "HasValues":
        return bool(token.props if isinstance(token, JObject) else getattr(token, "items", None))
    if isinstance(token, JProperty) and name in ("Name", "Value"):
        return token.name if name == "Name" else token.value
    if isinstance(token, JValue) and name == "Value":
        return token.value
    if name in ("First", "Last") and isinstance(token, JArray):
        if not token.items:
            return None
        return token.items[0] if name == "First" else token.items[-1]
    raise UnsupportedPolicyError(f"member `{token.type_name()}.{name}` is not modelled")


def static_member(type_name: str, name: str) -> object:
    if type_name in ENUMS:
        if name not in ENUMS[type_name]:
            raise UnsupportedPolicyError(f"`{type_name}.{name}` is not modelled")
        return CsEnum(type_name, name)
    now = dt.datetime.now(dt.UTC)
    table: dict[tuple[str, str], Callable[[], object]] = {
        ("DateTime", "UtcNow"): lambda: CsDateTime(now),
        ("DateTime", "Now"): lambda: CsDateTime(now),
        ("DateTimeOffset", "UtcNow"): lambda: CsDateTimeOffset(now),
        ("Guid", "Empty"): lambda: CsGuid(uuid.UUID(int=0)),
        ("string", "Empty"): lambda: "",
        ("String", "Empty"): lambda: "",
        ("int", "MaxValue"): lambda: 2**31 - 1,
        ("long", "MaxValue"): lambda: 2**63 - 1,
        ("Encoding", "UTF8"): lambda: StaticType("Encoding.UTF8"),
    }
    make = table.get((type_name, name))
    if make is None:
        raise UnsupportedPolicyError(f"static member `{type_name}.{name}` is not modelled")
    return make()


# ---------------------------------------------------------------- methods


def call_method(
    target: object,
    name: str,
    type_args: tuple[str, ...],
    args: list[object],
    named: dict[str, object],
) -> object:
    if target is None:
        raise CSharpError("NullReferenceException", f"object reference not set (calling {name})")
    if isinstance(target, StaticType):
        return static_call(target.name, name, type_args, args)
    if named and not isinstance(target, CsObject):
        raise UnsupportedPolicyError(f"named arguments to `{name}` are not modelled")
    if name == "ToString" and not args and not isinstance(target, CsObject):
        return cs_str(target)
    if isinstance(target, str):
        if args and callable(args[0]):
            return linq_call(target, name, type_args, args)  # a string is IEnumerable<char>
        return string_call(target, name, args)
    if isinstance(target, JToken):
        found, value = token_call(target, name, type_args, args)
        if found:
            return value
    if isinstance(target, CsObject):
        try:
            return target.cs_call(name, type_args, args, named)
        except UnsupportedPolicyError:
            if not isinstance(target, CsDict | Headers):
                raise
    if isinstance(target, list | JArray | JObject | CsDict | Headers):
        return linq_call(target, name, type_args, args)
    raise UnsupportedPolicyError(f"method `{name}` of {type(target).__name__} is not modelled")


def _comparison(args: list[object], index: int) -> bool:
    """Whether a StringComparison argument asks to ignore case."""
    if len(args) > index and isinstance(args[index], CsEnum):
        enum = args[index]
        assert isinstance(enum, CsEnum)
        return enum.name.endswith("IgnoreCase")
    return False


def string_call(s: str, name: str, args: list[object]) -> object:
    def arg_str(i: int) -> str:
        value = args[i]
        if value is None:
            raise CSharpError("ArgumentNullException", f"string.{name}: argument is null")
        return value if isinstance(value, str) else cs_str(value)

    fold = _comparison(args, 1)
    a, b = (s.lower(), arg_str(0).lower()) if fold and args else (s, arg_str(0) if args else "")
    if name == "StartsWith":
        return a.startswith(b)
    if name == "EndsWith":
        return a.endswith(b)
    if name == "Contains":
        return b in a
    if name == "Equals":
        return a == b
    if name == "IndexOf":
        return a.find(b)
    if name == "LastIndexOf":
        return a.rfind(b)
    if name == "Substring":
        start = args[0]
        assert isinstance(start, int)
        length = args[1] if len(args) > 1 else len(s) - start
        assert isinstance(length, int)
        if start < 0 or length < 0 or start + length > len(s):
            raise CSharpError("ArgumentOutOfRangeException", f"Substring({start}, {length})")
        return s[start : start + length]
    if name in ("Trim", "TrimStart", "TrimEnd"):
        chars = "".join(arg_str(i) for i in range(len(args))) or None
        fn = {"Trim": s.strip, "TrimStart": s.lstrip, "TrimEnd": s.rstrip}[name]
        return fn(chars)
    if name in ("ToLower", "ToLowerInvariant"):
        return s.lower()
    if name in ("ToUpper", "ToUpperInvariant"):
        return s.upper()
    if name == "Replace":
        return s.replace(arg_str(0), arg_str(1))
    if name == "Split":
        seps = [arg_str(i) for i in range(len(args)) if isinstance(args[i], str)]
        if isinstance(args[0], list):
            seps = [cs_str(x) for x in args[0]]
        parts = re.split("|".join(re.escape(x) for x in seps), s) if seps else s.split()
        options = [x for x in args if isinstance(x, CsEnum)]
        if any(o.name == "RemoveEmptyEntries" for o in options):
            parts = [p for p in parts if p]
        return parts
    if name == "PadLeft":
        width = args[0]
        assert isinstance(width, int)
        return s.rjust(width, arg_str(1) if len(args) > 1 else " ")
    raise UnsupportedPolicyError(f"string method `{name}` is not modelled")


def token_call(
    token: JToken, name: str, type_args: tuple[str, ...], args: list[object]
) -> tuple[bool, object]:
    """JToken methods; (False, None) when the name is not a token method (LINQ may take it)."""
    if name == "ToString":
        if args and isinstance(args[0], CsEnum) and args[0].name == "None":
            return True, token.to_text(indented=False)
        return True, token.cs_string() if not args else token.to_text()
    if name == "Value" and len(type_args) == 1:
        key = args[0]
        if not isinstance(key, str | int):
            raise UnsupportedPolicyError("Value<T>(key) needs a string or int key")
        item = token_index(token, key)
        return True, None if item is None else jtoken.cast_token(item, type_args[0] + "?")
    if name == "ToObject" and len(type_args) == 1:
        return True, jtoken.cast_token(token, type_args[0])
    if name == "DeepClone":
        return True, token.deep_clone()
    if name == "SelectToken":
        path = args[0]
        assert isinstance(path, str)
        return True, jtoken.select_token(token, path)
    if isinstance(token, JObject):
        return _object_call(token, name, args)
    if isinstance(token, JArray) and name == "Add":
        token.items.append(jtoken.to_token(args[0]))
        return True, None
    return False, None


def _object_call(obj: JObject, name: str, args: list[object]) -> tuple[bool, object]:
    if name == "ContainsKey":
        return True, args[0] in obj.props
    if name == "Properties":
        return True, [JProperty(k, v) for k, v in obj.props.items()]
    if name == "Property":
        key = args[0]
        value = obj.props.get(key) if isinstance(key, str) else None
        return True, None if value is None or not isinstance(key, str) else JProperty(key, value)
    if name == "Remove":
        key = args[0]
        return True, obj.props.pop(key, None) is not None if isinstance(key, str) else False
    if name == "Add":
        if len(args) == 1 and isinstance(args[0], JProperty):
            prop = args[0]
            obj.props[prop.name] = prop.value
            return True, None
        key = args[0]
        if not isinstance(key, str):
            raise UnsupportedPolicyError("JObject.Add needs a name")
        if key in obj.props:
            raise CSharpError("ArgumentException", f"property {key} already exists")
        obj.set(key, args[1])
        return True, None
    return False, None


def token_index(token: JToken, key: object) -> JToken | None:
    if isinstance(token, JObject):
        if not isinstance(key, str):
            raise CSharpError("ArgumentException", "accessed JObject values with invalid key")
        return token.get(key)
    if isinstance(token, JArray):
        if not isinstance(key, int) or isinstance(key, bool):
            raise CSharpError("ArgumentException", "accessed JArray values with invalid key")
        return token.at(key)
    raise CSharpError(
        "InvalidOperationException", f"cannot access child value on {token.type_name()}"
    )


def static_call(
    type_name: str, name: str, type_args: tuple[str, ...], args: list[object]
) -> object:
    t = {"String": "string", "Int32": "int", "Int64": "long", "Boolean": "bool"}.get(
        type_name, type_name
    )
    if t == "string":
        if name == "IsNullOrEmpty":
            return args[0] is None or args[0] == ""
        if name == "IsNullOrWhiteSpace":
            return args[0] is None or (isinstance(args[0], str) and not args[0].strip())
        if name == "Join":
            sep = cs_str(args[0])
            items = (
                enumerate_cs(args[1])
                if len(args) == 2 and not isinstance(args[1], str)
                else args[1:]
            )
            return sep.join(cs_str(x) for x in items)
        if name == "Concat":
            return "".join(cs_str(x) for x in args)
        if name == "Equals":
            return (
                args[0] == args[1]
                if not _comparison(args, 2)
                else (cs_str(args[0]).lower() == cs_str(args[1]).lower())
            )
        if name == "Format":
            return _format(cs_str(args[0]), args[1:])
    if t in ("int", "long") and name == "Parse":
        text = cs_str(args[0]).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise CSharpError("FormatException", f"'{text}' is not an integer")
        return int(text)
    if (
        t in ("char", "Char")
        and name in _CHAR_TESTS
        and len(args) == 1
        and isinstance(args[0], str)
    ):
        return _CHAR_TESTS[name](args[0])
    if t == "Convert":
        return _convert(name, args)
    if t == "Guid" and name == "NewGuid":
        return CsGuid(uuid.uuid4())
    if t == "Guid" and name == "Parse":
        return CsGuid(uuid.UUID(cs_str(args[0])))
    if t == "TimeSpan" and name == "FromSeconds":
        seconds = args[0]
        assert isinstance(seconds, int | float)
        return CsTimeSpan(dt.timedelta(seconds=seconds))
    if t == "Math":
        return _math(name, args)
    if t in ("JObject", "JArray", "JToken") and name == "Parse":
        json_text = args[0]
        if not isinstance(json_text, str):
            raise CSharpError("ArgumentNullException", f"{t}.Parse: json is null")
        return jtoken.parse(json_text, t)
    if t == "JObject" and name == "FromObject":
        return jtoken.to_token(args[0])
    if t == "Uri" and name == "EscapeDataString":
        return quote(cs_str(args[0]), safe="-_.~")
    if t == "Uri" and name == "UnescapeDataString":
        return unquote(cs_str(args[0]))
    if t == "Encoding.UTF8" and name == "GetBytes":
        return list(cs_str(args[0]).encode())
    if t == "Encoding.UTF8" and name == "GetString":
        data = args[0]
        assert isinstance(data, list)
        return bytes(int(x) for x in data if isinstance(x, int)).decode()
    if t == "Enumerable" and name == "Empty":
        return []
    if t == "Enumerable" and name == "Range":
        start, count = args
        assert isinstance(start, int) and isinstance(count, int)
        return list(range(start, start + count))
    if t == "Array" and name == "IndexOf":
        items = enumerate_cs(args[0])
        return next((i for i, x in enumerate(items) if cs_equals(x, args[1])), -1)
    raise UnsupportedPolicyError(f"static method `{type_name}.{name}` is not modelled")


_CHAR_TESTS: dict[str, Callable[[str], bool]] = {
    "IsLetterOrDigit": str.isalnum,
    "IsLetter": str.isalpha,
    "IsDigit": str.isdigit,
    "IsWhiteSpace": str.isspace,
    "IsUpper": str.isupper,
    "IsLower": str.islower,
}


def _format(fmt: str, args: list[object]) -> str:
    def sub(m: re.Match[str]) -> str:
        return cs_str(args[int(m.group(1))])

    return (
        re.sub(r"\{(\d+)\}", sub, fmt.replace("{{", "\0").replace("}}", "\1"))
        .replace("\0", "{")
        .replace("\1", "}")
    )


def _convert(name: str, args: list[object]) -> object:
    value = args[0]
    if name == "ToString":
        return cs_str(value)
    if name in ("ToInt32", "ToInt64"):
        if value is None:
            return 0
        if isinstance(value, str):
            return static_call("int", "Parse", (), [value])
        if isinstance(value, int | float):
            return round(value) if isinstance(value, float) else value
    if name == "ToBoolean" and isinstance(value, str | bool):
        return value if isinstance(value, bool) else value.strip().lower() == "true"
    if name == "ToBase64String" and isinstance(value, list):
        return base64.b64encode(bytes(int(x) for x in value if isinstance(x, int))).decode()
    if name == "FromBase64String" and isinstance(value, str):
        return list(base64.b64decode(value))
    raise UnsupportedPolicyError(f"`Convert.{name}({type(value).__name__})` is not modelled")


def _math(name: str, args: list[object]) -> object:
    nums = [a for a in args if isinstance(a, int | float)]
    if len(nums) != len(args):
        raise UnsupportedPolicyError(f"Math.{name} needs numbers")
    fns: dict[str, Callable[[], object]] = {
        "Min": lambda: min(nums),
        "Max": lambda: max(nums),
        "Abs": lambda: abs(nums[0]),
        "Ceiling": lambda: float(math.ceil(nums[0])),
        "Floor": lambda: float(math.floor(nums[0])),
    }
    if name not in fns:
        raise UnsupportedPolicyError(f"Math.{name} is not modelled")
    return fns[name]()


class Ordered(list[object]):
    """IOrderedEnumerable: the sorted items, remembering the keys for ThenBy."""

    def __init__(self, source: list[object], keys: list[tuple[Fn, bool]]) -> None:
        def cmp(p: tuple[list[object], object], q: tuple[list[object], object]) -> int:
            for a, b, (_, desc) in zip(p[0], q[0], keys, strict=True):
                c = compare(a, b)
                if c:
                    return -c if desc else c
            return 0

        keyed = [([fn(x) for fn, _ in keys], x) for x in source]
        keyed.sort(key=cmp_to_key(cmp))
        super().__init__(x for _, x in keyed)
        self.source = source
        self.keys = keys


def linq_call(source: object, name: str, type_args: tuple[str, ...], args: list[object]) -> object:
    items = enumerate_cs(source)
    fn: Fn | None = args[0] if args and callable(args[0]) else None

    def need_fn() -> Fn:
        if fn is None:
            raise UnsupportedPolicyError(f"LINQ {name} needs a lambda")
        return fn

    if name == "Select":
        return [need_fn()(x) for x in items]
    if name == "SelectMany":
        return [y for x in items for y in enumerate_cs(need_fn()(x))]
    if name == "Where":
        return [x for x in items if truthy(need_fn()(x), "Where predicate")]
    if name in (
        "Any",
        "All",
        "Count",
        "First",
        "FirstOrDefault",
        "Last",
        "LastOrDefault",
        "Single",
    ):
        matched = [x for x in items if fn is None or truthy(fn(x), f"{name} predicate")]
        if name == "Any":
            return bool(matched)
        if name == "All":
            return len(matched) == len(items)
        if name == "Count":
            return len(matched)
        if not matched:
            if name.endswith("OrDefault"):
                return None
            raise CSharpError("InvalidOperationException", "sequence contains no matching element")
        return matched[-1] if name.startswith("Last") else matched[0]
    if name in ("OrderBy", "OrderByDescending", "ThenBy", "ThenByDescending"):
        keys = list(source.keys) if isinstance(source, Ordered) and name.startswith("Then") else []
        if name.startswith("Then") and not isinstance(source, Ordered):
            raise UnsupportedPolicyError(f"{name} without OrderBy")
        keys.append((need_fn(), name.endswith("Descending")))
        base = source.source if isinstance(source, Ordered) and name.startswith("Then") else items
        return Ordered(base, keys)
    if name in ("ToList", "ToArray", "AsEnumerable"):
        return items
    if name == "Contains":
        return any(cs_equals(x, args[0]) for x in items)
    if name == "Distinct":
        out: list[object] = []
        for x in items:
            if not any(cs_equals(x, y) for y in out):
                out.append(x)
        return out
    if name == "Take":
        n = args[0]
        assert isinstance(n, int)
        return items[:n]
    if name == "Skip":
        n = args[0]
        assert isinstance(n, int)
        return items[n:]
    if name == "Concat":
        return items + enumerate_cs(args[0])
    if name in ("Cast", "OfType") and type_args:
        return [
            cast_value(x, type_args[0]) for x in items if name == "Cast" or is_type(x, type_args[0])
        ]
    if name == "Add" and isinstance(source, list):
        source.append(args[0])
        return None
    if name == "AddRange" and isinstance(source, list):
        source.extend(enumerate_cs(args[0]))
        return None
    if name in ("Min", "Max", "Sum"):
        values = [fn(x) for x in items] if fn else items
        if name == "Sum":
            return sum(v for v in values if isinstance(v, int | float))
        if not values:
            raise CSharpError("InvalidOperationException", "sequence contains no elements")
        ordered = sorted(values, key=cmp_to_key(compare))
        return ordered[0] if name == "Min" else ordered[-1]
    raise UnsupportedPolicyError(f"LINQ/collection method `{name}` is not modelled")


# ---------------------------------------------------------------- types


def is_type(value: object, type_name: str) -> bool:
    checks: dict[str, Callable[[object], bool]] = {
        "string": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "JObject": lambda v: isinstance(v, JObject),
        "JArray": lambda v: isinstance(v, JArray),
        "JToken": lambda v: isinstance(v, JToken),
        "JValue": lambda v: isinstance(v, JValue),
        "JProperty": lambda v: isinstance(v, JProperty),
        "IResponse": lambda v: isinstance(v, CsObject) and v.cs_type == "IResponse",
        "object": lambda v: v is not None,
    }
    check = checks.get(type_name.rstrip("?"))
    if check is None:
        raise UnsupportedPolicyError(f"type test against `{type_name}` is not modelled")
    return check(value)


def cast_value(value: object, type_name: str) -> object:
    """An explicit cast `(T)value`."""
    base = type_name.rstrip("?")
    if isinstance(value, JToken) and base in (
        "string",
        "int",
        "long",
        "bool",
        "double",
        "float",
        "decimal",
        "Int32",
        "Int64",
        "Boolean",
    ):
        return jtoken.cast_token(value, type_name)
    if value is None:
        if base in ("int", "long", "bool", "double") and not type_name.endswith("?"):
            raise CSharpError("NullReferenceException", f"cannot unbox null to {type_name}")
        return None
    if base in ("int", "long") and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if base in ("double", "float", "decimal") and isinstance(value, int | float):
        return float(value)
    if base == "object":
        return value
    if base in ("IEnumerable", "IEnumerable<JToken>") and isinstance(value, list | JArray):
        return value
    if is_type(value, base):
        return value
    raise CSharpError(
        "InvalidCastException", f"unable to cast {type(value).__name__} to {type_name}"
    )


class CsRandom(CsObject):
    """System.Random, drawing from the simulator's seeded generator."""

    cs_type = "Random"
    source: random.Random = random.Random(0)
    lock = threading.Lock()

    def call_Next(self, _t: tuple[str, ...], *bounds: int) -> int:
        low, high = (0, bounds[0]) if len(bounds) == 1 else bounds if bounds else (0, 2**31 - 1)
        if high <= low:
            return low
        with self.lock:
            return self.source.randrange(low, high)


def try_parse(type_name: str, text: object) -> tuple[bool, object]:
    """int.TryParse / long.TryParse: (parsed?, value written to the out argument)."""
    if type_name not in ("int", "long", "Int32", "Int64"):
        raise UnsupportedPolicyError(f"`{type_name}.TryParse` is not modelled")
    if isinstance(text, str) and re.fullmatch(r"\s*[+-]?\d+\s*", text):
        return True, int(text)
    return False, 0


def construct(type_name: str, type_args: tuple[str, ...], args: list[object]) -> object:
    if type_name == "Random" and not args:
        return CsRandom()
    if type_name == "JObject":
        obj = JObject()
        for arg in args:
            for item in [arg] if isinstance(arg, JProperty) else enumerate_cs(arg):
                if not isinstance(item, JProperty):
                    raise UnsupportedPolicyError("new JObject(...) takes JProperty arguments")
                obj.props[item.name] = item.value
        return obj
    if type_name == "JArray":
        flat: list[JToken] = []
        for arg in args:
            if isinstance(arg, list):
                flat.extend(jtoken.to_token(x) for x in arg)
            else:
                flat.append(jtoken.to_token(arg))
        return JArray(flat)
    if type_name == "JProperty" and len(args) == 2 and isinstance(args[0], str):
        return JProperty(args[0], args[1])
    if type_name == "JValue" and len(args) == 1:
        return jtoken.to_token(args[0])
    if type_name == "List" and len(type_args) == 1:
        return enumerate_cs(args[0]) if args else []
    if type_name == "Uri" and len(args) == 1:
        return CsUri(cs_str(args[0]))
    if type_name == "TimeSpan" and len(args) == 3 and all(isinstance(a, int) for a in args):
        h, m, s = (int(a) for a in args if isinstance(a, int))
        return CsTimeSpan(dt.timedelta(hours=h, minutes=m, seconds=s))
    raise UnsupportedPolicyError(f"`new {type_name}(...)` is not modelled")


def indexer_get(target: object, key: object) -> object:
    if target is None:
        raise CSharpError("NullReferenceException", "object reference not set (indexer)")
    if isinstance(target, JToken):
        return token_index(target, key)
    if isinstance(target, Headers | CsDict):
        return target.index(key)
    if isinstance(target, list | str):
        if not isinstance(key, int) or not 0 <= key < len(target):
            raise CSharpError("IndexOutOfRangeException", f"index {key} is outside the bounds")
        return target[key]
    raise UnsupportedPolicyError(f"indexer on {type(target).__name__} is not modelled")


def indexer_set(target: object, key: object, value: object) -> None:
    if isinstance(target, JObject) and isinstance(key, str):
        target.set(key, value)
    elif isinstance(target, JArray) and isinstance(key, int):
        target.at(key)
        target.items[key] = jtoken.to_token(value)
    elif isinstance(target, list) and isinstance(key, int):
        target[key] = value
    else:
        raise UnsupportedPolicyError(f"assigning an index of {type(target).__name__}")


def iter_names(values: Iterable[str]) -> str:
    return ", ".join(values)
