"""Render the three API policies from the XML templates in `policies/`. Pure.

Templates are written the way APIM policies are authored (expressions unescaped, as in the
portal or `rawxml`) so they read as C#; `${name}` placeholders are filled from the GatewaySpec,
then every expression is XML-escaped, so what we send is well-formed XML (format `xml`).
A placeholder alone on its line is a block: each line of its value gets that line's indent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from importlib.resources import files

from batchgw.gateway.expressions import escape_expressions
from batchgw.gateway.spec import GatewaySpec, check_gateway

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_BLOCK_LINE = re.compile(r"^([ \t]*)\$\{(\w+)\}[ \t]*$")

NOT_FOUND = "not_found"

# Ids the client sends (path parameters, ids in a request body, x-session-id) become cache keys
# and probe urls: the policies answer 400 to any other shape before using one.
ID_MAX_LENGTH = 128
# C# test of one char `c`: ASCII letters and digits (not char.IsLetterOrDigit, which takes any
# Unicode letter) and - _ . :
ID_CHAR_TEST = (
    "(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')"
    ' || "-_.:".IndexOf(c) >= 0'
)
INVALID_ID = "invalid_id"


def load_template(name: str) -> str:
    return (files("batchgw.gateway") / "policies" / name).read_text(encoding="utf-8")


def fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute `${name}` placeholders in one pass (values are never re-scanned)."""
    out: list[str] = []
    for line in template.rstrip("\n").split("\n"):
        block = _BLOCK_LINE.match(line)
        if block:
            indent, key = block.groups()
            value = values[key].rstrip("\n")
            out.extend(indent + part if part else "" for part in value.split("\n") if value)
            continue
        indent = line[: len(line) - len(line.lstrip())]

        def inline(match: re.Match[str], indent: str = indent) -> str:
            return values[match.group(1)].rstrip("\n").replace("\n", "\n" + indent)

        out.append(_PLACEHOLDER.sub(inline, line))
    return "\n".join(out) + "\n"


def _cs_strings(items: list[str]) -> str:
    return "new[] { " + ", ".join(f'"{item}"' for item in items) + " }"


def _cs_ints(items: list[int]) -> str:
    return "new[] { " + ", ".join(str(item) for item in items) + " }"


def region_values(gateway: GatewaySpec) -> dict[str, str]:
    """The region tables every fragment may use, as C# array initialisers and literals."""
    regions = gateway.regions
    count = len(regions)
    return {
        "names": _cs_strings([r.name for r in regions]),
        "urls": _cs_strings([r.url.rstrip("/") for r in regions]),
        "weights": _cs_ints([r.weight for r in regions]),
        "priorities": _cs_ints([r.priority for r in regions]),
        "names_csv": ",".join(r.name for r in regions),
        "count": str(count),
        # retry's count must be positive; its condition stops it after the last region.
        "retries": str(max(count - 1, 1)),
        "ttl": str(gateway.affinity_ttl_seconds),
        "id_max": str(ID_MAX_LENGTH),
        "id_char": ID_CHAR_TEST,
    }


def _error(
    values: Mapping[str, str],
    *,
    status: int,
    reason: str,
    message: str,
    param: str,
    code: str,
    retry_after: bool = False,
) -> str:
    """An OpenAI-style error answered by the gateway itself (no region served it)."""
    extra = load_template("fragments/retry-after-header.xml") if retry_after else ""
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return fill(
        load_template("fragments/error-response.xml"),
        {
            **values,
            "status": str(status),
            "reason": reason,
            "message": message,
            "param": param,
            "type": kind,
            "code": code,
            "extra_headers": extra,
        },
    )


def _var(name: str) -> str:
    return f'(string)context.Variables["{name}"]'


def _errors(values: Mapping[str, str]) -> dict[str, str]:
    names_list = values["names_csv"].replace(",", ", ")
    return {
        "error_unknown_region": _error(
            values,
            status=400,
            reason="Bad Request",
            message=f'"Unknown region \'" + {_var("pinned")} + "\' in x-backend-region; '
            f'valid regions: {names_list}"',
            param='"x-backend-region"',
            code="invalid_region",
        ),
        "error_not_found": _error(
            values,
            status=404,
            reason="Not Found",
            message=f'"No such " + {_var("lookupWhat")} + ": \'" + {_var("lookupId")} + '
            '"\' (no region has it)"',
            param=_var("lookupParam"),
            code=NOT_FOUND,
        ),
        "error_lookup_unsure": _error(
            values,
            status=503,
            reason="Service Unavailable",
            message=f'"Could not find the region of " + {_var("lookupWhat")} + " \'" + '
            f'{_var("lookupId")} + "\': a region did not answer; retry later"',
            param=_var("lookupParam"),
            code="region_unavailable",
            retry_after=True,
        ),
        "error_missing_input_file": _error(
            values,
            status=400,
            reason="Bad Request",
            message='"input_file_id is required: a batch runs in the region of its input file"',
            param='"input_file_id"',
            code="missing_required_parameter",
        ),
        "error_after_needs_pin": _error(
            values,
            status=400,
            reason="Bad Request",
            message="\"A merged list can't be paged with after: send x-backend-region to page "
            "one region's list\"",
            param='"after"',
            code="invalid_value",
        ),
        "error_list_failed": _error(
            values,
            status=503,
            reason="Service Unavailable",
            message=f'"Region \'" + {_var("listFailed")} + "\' did not answer; a merged list '
            'needs every region (retry, or send x-backend-region)"',
            param="JValue.CreateNull()",
            code="region_unavailable",
            retry_after=True,
        ),
        "error_bad_session": _bad_id(values, '"x-session-id"'),
        "error_bad_id": _bad_id(values, _var("lookupParam")),
    }


def _bad_id(values: Mapping[str, str], param: str) -> str:
    """400 for an id the client sent in a shape that can't be a cache key (never echoed)."""
    rule = f" must be at most {ID_MAX_LENGTH} characters, each an ASCII letter, a digit or - _ . :"
    # param is a C# string literal ("x-session-id") or an expression naming the parameter.
    message = param[:-1] + rule + '"' if param.startswith('"') else f'{param} + "{rule}"'
    return _error(
        values,
        status=400,
        reason="Bad Request",
        message=message,
        param=param,
        code=INVALID_ID,
    )


def _lookup(
    values: Mapping[str, str], *, kind: str, collection: str, param: str, id_expr: str
) -> str:
    return fill(
        load_template("fragments/lookup-setup.xml"),
        {**values, "kind": kind, "collection": collection, "param": param, "id_expr": id_expr},
    )


def _matched(param: str) -> str:
    return f'@(context.Request.MatchedParameters["{param}"])'


def fragment_values(gateway: GatewaySpec, api_id: str) -> dict[str, str]:
    """Every placeholder of the API templates, rendered for this gateway and API."""
    values = region_values(gateway)
    values.update(_errors(values))
    values["pick_region"] = fill(load_template("fragments/pick-region.cs"), values)
    values["min_retry_after"] = fill(load_template("fragments/min-retry-after.cs"), values)
    values["response_id"] = load_template("fragments/response-id.cs")
    values["request_json"] = load_template("fragments/request-json.cs")
    values["set_backend"] = (
        "<choose>\n"
        + "".join(
            "    "
            + fill(
                load_template("fragments/set-backend-when.xml"),
                {"name": r.name, "backend_id": r.backend_id},
            )
            .replace("\n", "\n    ")
            .rstrip(" ")
            for r in gateway.regions
        )
        + "</choose>"
    )
    realtime = api_id == "openai-realtime"
    streamable = ["chat-completions"] if realtime else ["files-content"]
    values["streamable_ops"] = "new[] { " + ", ".join(f'"{op}"' for op in streamable) + " }"
    values["session_when"] = load_template("fragments/session-when.xml") if realtime else ""
    values["final_comment"] = "the session's region, " if realtime else ""
    values["on_error_extra"] = load_template("fragments/session-on-error.xml") if realtime else ""
    # Only a session gives the owner lookup a record to read on a miss (and to stay with).
    for name in ("session_miss_lookup", "session_miss_repair", "session_miss_stay"):
        fragment = f"fragments/{name.replace('_', '-')}.xml"
        values[name] = fill(load_template(fragment), values) if realtime else ""
    for name in ("prelude", "lookup_init", "owner_lookup", "route_final", "backend"):
        values[name] = fill(load_template(f"fragments/{name.replace('_', '-')}.xml"), values)
    values["outbound_common"] = fill(load_template("fragments/outbound-common.xml"), values)
    values["on_error"] = fill(load_template("fragments/on-error.xml"), values)
    values["merge_list"] = fill(load_template("fragments/merge-list.xml"), values)
    values["session"] = fill(load_template("fragments/session.xml"), values)
    values["lookup_file"] = _lookup(
        values, kind="file", collection="files", param="file_id", id_expr=_matched("file_id")
    )
    values["lookup_input_file"] = _lookup(
        values,
        kind="file",
        collection="files",
        param="input_file_id",
        id_expr=f"@({_var('inputFileId')})",
    )
    values["lookup_batch"] = _lookup(
        values, kind="batch", collection="batches", param="batch_id", id_expr=_matched("batch_id")
    )
    values["lookup_response"] = _lookup(
        values,
        kind="response",
        collection="responses",
        param="response_id",
        id_expr=_matched("response_id"),
    )
    values["lookup_previous"] = _lookup(
        values,
        kind="response",
        collection="responses",
        param="previous_response_id",
        id_expr=f"@({_var('previousId')})",
    )
    return values


def render_policy(gateway: GatewaySpec, api_id: str) -> str:
    """The policy document of one API (`openai`, `openai-sticky`, `openai-realtime`)."""
    check_gateway(gateway)
    raw = fill(load_template(f"{api_id}.xml"), fragment_values(gateway, api_id))
    xml = escape_expressions(raw)
    ET.fromstring(xml)  # fail here, not in APIM, if a template edit broke the XML
    return xml
