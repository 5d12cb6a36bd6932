"""Plan, endpoints and errors as terminal text or contract JSON. Writes only to the Console given.

Every line is built as a rich Text, never as markup, because values carry brackets
(`[429, 500-599]`) that rich would otherwise read as styles.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, TypeGuard

from rich.table import Table
from rich.text import Text

from batchgw.errors import BatchgwError, ConfigError
from batchgw.plan import Action, Change, Plan, Sensitive, Unknown

if TYPE_CHECKING:
    from rich.console import Console

    from batchgw.endpoints import Endpoints

UNKNOWN_TEXT = "(known after apply)"
SENSITIVE_TEXT = "(sensitive)"
POLICY_FIELD = "policy"
POLICY_PREVIEW_LINES = 6

SIGN = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}
COLOUR = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red"}
HEADER_INDENT = "  "
FIELD_INDENT = "      "
BODY_INDENT = "          "

# Defence in depth: steps mark secrets with SENSITIVE, but should a raw connection string or
# key-bearing value ever slip into a diff, it is masked here instead of printed.
SECRET_PATTERN = re.compile(
    r"\b(password|passwd|pwd|secret|accountkey|sharedaccesskey|access_?key|api[-_]?key)\s*=",
    re.IGNORECASE,
)
BARE_WORD = re.compile(r"^[^\s,={}\[\]\"]+$")


def is_secret(value: object) -> bool:
    if isinstance(value, Sensitive) or hasattr(value, "get_secret_value"):
        return True  # pydantic SecretStr/SecretBytes, duck-typed to keep pydantic out of here
    return isinstance(value, str) and bool(SECRET_PATTERN.search(value))


def format_value(value: object) -> str:
    """One value, compactly, as the plan shows it: strings quoted, dicts as {k=v, ...}."""
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if is_secret(value):
        return SENSITIVE_TEXT
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        pairs = (f"{key}={_format_bare(item)}" for key, item in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return "[" + ", ".join(format_value(item) for item in items) + "]"
    return str(value)


def _format_bare(value: object) -> str:
    # Inside {k=v} a plain word reads better unquoted (tags: managed-by=batchgw).
    if isinstance(value, str) and not is_secret(value) and BARE_WORD.match(value):
        return value
    return format_value(value)


def to_json_value(value: object) -> object:
    """A diff value as JSON: markers as their text, tuples and sets as lists, secrets masked."""
    if isinstance(value, Unknown):
        return UNKNOWN_TEXT
    if is_secret(value):
        return SENSITIVE_TEXT
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return [to_json_value(item) for item in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    return str(value)


# --- plan ---------------------------------------------------------------------------------------


def summary_line(plan: Plan) -> str:
    counts = plan.summary()
    return (
        f"Plan: {counts['create']} to add, {counts['update']} to change, "
        f"{counts['delete']} to destroy."
    )


def render_plan(plan: Plan, console: Console, *, title: str = "") -> None:
    if title:
        console.print(Text(title, style="bold"), soft_wrap=True)
        console.print()
    if not plan.has_changes:
        console.print(Text("No changes. Azure matches the configuration.", style="green"))
        _render_warnings(plan, console)
        return
    for change in plan.changes:
        for line in change_lines(change):
            console.print(line, soft_wrap=True)
        console.print()
    _render_warnings(plan, console)
    if plan.warnings:
        console.print()
    console.print(Text(summary_line(plan), style="bold"), soft_wrap=True)


def _render_warnings(plan: Plan, console: Console) -> None:
    for warning in plan.warnings:
        line = Text("Warning: ", style="bold yellow")
        line.append(warning)
        console.print(line, soft_wrap=True)


def change_lines(change: Change) -> Iterator[Text]:
    sign, colour = SIGN[change.action], COLOUR[change.action]
    header = Text(HEADER_INDENT)
    header.append(sign, style=f"bold {colour}")
    header.append(f" {change.type} ")
    header.append(change.name, style="bold")
    yield header
    if change.note:
        yield Text(FIELD_INDENT + change.note, style="dim")
    for field, (before, after) in change.diff.items():
        if field == POLICY_FIELD and _is_text(before) and _is_text(after):
            yield from _policy_lines(change.action, before, after)
        else:
            yield _field_line(change.action, field, before, after)


def _field_line(action: Action, field: str, before: object, after: object) -> Text:
    sign, colour = SIGN[action], COLOUR[action]
    line = Text(FIELD_INDENT)
    line.append(sign, style=colour)
    if action is Action.UPDATE:
        line.append(f" {field}: ")
        line.append(format_value(before), style="red")
        line.append(" -> ")
        line.append(format_value(after), style="green")
    else:
        value = after if action is Action.CREATE else before
        line.append(f" {field} = ")
        line.append(format_value(value), style=colour)
    return line


def _is_text(value: object) -> TypeGuard[str | None]:
    return value is None or (isinstance(value, str) and not is_secret(value))


def _policy_lines(action: Action, before: str | None, after: str | None) -> Iterator[Text]:
    sign, colour = SIGN[action], COLOUR[action]
    if action is Action.UPDATE and before is not None and after is not None:
        yield Text(FIELD_INDENT + f"~ {POLICY_FIELD}:", style="yellow")
        diff = policy_text_diff(before, after)
        if not diff.strip():
            yield Text(
                BODY_INDENT + "(layout only: same policy after canonicalisation)", style="dim"
            )
        for raw in diff.splitlines():
            yield Text(BODY_INDENT + raw, style=_diff_style(raw))
        return
    document = (after if action is Action.CREATE else before) or ""
    lines = document.replace("\r\n", "\n").strip("\n").splitlines()
    count = f"{len(lines)} line" + ("" if len(lines) == 1 else "s")
    yield Text(FIELD_INDENT + f"{sign} {POLICY_FIELD} = ({count})", style=colour)
    if action is Action.CREATE:
        for raw in lines[:POLICY_PREVIEW_LINES]:
            yield Text(BODY_INDENT + raw.rstrip(), style="dim")
        if len(lines) > POLICY_PREVIEW_LINES:
            yield Text(BODY_INDENT + "...", style="dim")


def policy_text_diff(before: str, after: str) -> str:
    """Unified diff of the canonical XML; raw text if a document doesn't parse as XML."""
    from batchgw.gateway.canonical import policy_diff  # lazy: gateway is a heavier package

    try:
        return policy_diff(before, after)
    except (ValueError, SyntaxError):
        # xml ParseError and lxml XMLSyntaxError are SyntaxErrors; a broken document from
        # Azure should still show what differs rather than fail the whole plan.
        lines = difflib.unified_diff(
            before.replace("\r\n", "\n").splitlines(),
            after.replace("\r\n", "\n").splitlines(),
            "deployed",
            "desired",
            lineterm="",
        )
        return "\n".join(lines)


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    if line.startswith("+"):
        return "green"
    if line.startswith("-"):
        return "red"
    return ""


def plan_to_json(plan: Plan) -> dict[str, object]:
    changes = [
        {
            "step": change.step,
            "action": change.action.value,
            "type": change.type,
            "name": change.name,
            "id": change.id,
            "diff": {
                field: {"before": to_json_value(before), "after": to_json_value(after)}
                for field, (before, after) in change.diff.items()
            },
        }
        for change in plan.changes
    ]
    return {"changes": changes, "summary": plan.summary(), "warnings": list(plan.warnings)}


# --- endpoints ----------------------------------------------------------------------------------


def endpoints_to_json(endpoints: Endpoints) -> dict[str, str]:
    return endpoints.to_dict()


def curl_example(endpoints: Endpoints) -> str:
    sticky = endpoints.urls["sticky_batch_api_url"]
    return (
        f'curl -sS -i "{sticky}/files" \\\n  -H "Ocp-Apim-Subscription-Key: $APIM_SUBSCRIPTION_KEY"'
    )


def sdk_example(endpoints: Endpoints) -> str:
    sticky = endpoints.urls["sticky_batch_api_url"]
    return "\n".join(
        [
            "import os",
            "from openai import OpenAI",
            "",
            "client = OpenAI(",
            f'    base_url="{sticky}",',
            '    api_key="unused",  # the gateway signs in to Azure with its managed identity',
            '    default_headers={"Ocp-Apim-Subscription-Key": '
            'os.environ["APIM_SUBSCRIPTION_KEY"]},',
            ")",
            'with open("requests.jsonl", "rb") as requests:',
            '    batch_input = client.files.create(file=requests, purpose="batch")',
            "batch = client.batches.create(",
            "    input_file_id=batch_input.id,",
            '    endpoint="/chat/completions",',
            '    completion_window="24h",',
            ")",
            "print(batch.id, batch.status)",
        ]
    )


def render_endpoints(endpoints: Endpoints, console: Console) -> None:
    table = Table(title="batchgw endpoints", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in endpoints.to_dict().items():
        table.add_row(Text(key), Text(value or "(not found)"))
    console.print(table)
    console.print()
    console.print(Text("Try it (set APIM_SUBSCRIPTION_KEY to an APIM subscription key first):"))
    console.print(Text(curl_example(endpoints)), soft_wrap=True)
    console.print()
    console.print(Text("With the openai Python SDK:"))
    console.print(Text(sdk_example(endpoints)), soft_wrap=True)


# --- errors -------------------------------------------------------------------------------------


def error_to_json(error: BatchgwError) -> dict[str, object]:
    body: dict[str, object] = {"code": error.code, "message": error.message, "hint": error.hint}
    if isinstance(error, ConfigError):
        body["details"] = list(error.details)
    return {"error": body}
