"""Ids the client sends reach a cache key or a probe url only after the id check (400 otherwise).

A walk over each policy in pipeline order tracks which variables hold an unchecked client id: a
variable set from a client id (or from such a variable) is unchecked until a `choose` whose only
`when` is the id check on it; a cache key or a send-request url must read no unchecked variable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from batchgw.gateway.expressions import is_expression
from tests.gateway.conftest import POLICY_CASES, apis_for
from tests.gateway.policy_tree import own_expressions, parse, safe_reads, strict_reads

# Where a client's id enters a policy, and what each policy is expected to read.
SOURCES = {
    "path": re.compile(r'context\.Request\.MatchedParameters\["(\w+)"\]'),
    "body": re.compile(r'body\["(input_file_id|previous_response_id)"\]'),
    "header": re.compile(r'context\.Request\.Headers\.GetValueOrDefault\("(x-session-id)"'),
}
EXPECTED_IDS = {
    "openai": set(),
    "openai-sticky": {"file_id", "batch_id", "input_file_id"},
    "openai-realtime": {"response_id", "previous_response_id", "x-session-id"},
}
# The variables each policy checks: every path/body id goes through lookupId.
EXPECTED_CHECKED = {
    "openai": set(),
    "openai-sticky": {"lookupId"},
    "openai-realtime": {"lookupId", "sessionId"},
}
# The check, written out here on purpose (not imported): at most 128 ASCII letters, digits, - _ . :
_ASCII_ID = (
    "(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')"
    ' || "-_.:".IndexOf(c) >= 0'
)
_CHECK = re.compile(
    r'^@\(\(\(string\)context\.Variables\["(\w+)"\]\)\.Length > 128 \|\| '
    r'!\(\(string\)context\.Variables\["\1"\]\)\.All\(c => (.+)\)\)$'
)
_SINKS = ("cache-lookup-value", "cache-store-value", "cache-remove-value", "send-request")


def _children(elem: ET.Element) -> list[ET.Element]:
    return [c for c in elem if isinstance(c.tag, str)]


def _ids_read(code: str) -> set[str]:
    return {name for pattern in SOURCES.values() for name in pattern.findall(code)}


def _is_rejection(branch: ET.Element) -> bool:
    """The branch answers 400 invalid_id naming no region, and nothing else."""
    body = _children(branch)
    if len(body) != 1 or body[0].tag != "return-response":
        return False
    answer = body[0]
    status = answer.find("set-status")
    headers = {h.attrib["name"]: (h.findtext("value") or "") for h in answer.iter("set-header")}
    text = answer.findtext("set-body") or ""
    return (
        status is not None
        and status.attrib["code"] == "400"
        and headers.get("x-backend-region") == "none"
        and headers.get("Content-Type") == "application/json"
        and 'new JProperty("code", "invalid_id")' in text
        and 'new JProperty("type", "invalid_request_error")' in text
        and 'new JProperty("param", ' in text
    )


def checked_variable(choose: ET.Element) -> str | None:
    """The variable a `choose` checks: one `when` with the id check that rejects."""
    branches = _children(choose)
    if len(branches) != 1 or branches[0].tag != "when":
        return None
    match = _CHECK.match(branches[0].attrib["condition"])
    if match is None or match.group(2) != _ASCII_ID or not _is_rejection(branches[0]):
        return None
    return match.group(1)


class ClientIdFlow:
    """Unchecked variables along every path; errors where one reaches a sink."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.checked: set[str] = set()

    def _sink(self, tag: str, code: str, unchecked: frozenset[str]) -> None:
        reads = strict_reads(code) | safe_reads(code)
        bad = sorted(reads & unchecked) + sorted(_ids_read(code))
        if bad:
            flat = " ".join(code.split())[:80]
            self.errors.append(f"{tag}: {flat} uses unchecked {', '.join(bad)}")

    def run(self, statements: list[ET.Element], unchecked: frozenset[str]) -> frozenset[str] | None:
        current: frozenset[str] | None = unchecked
        for statement in statements:
            assert current is not None
            current = self.statement(statement, current)
            if current is None:
                return None
        return current

    def statement(self, elem: ET.Element, unchecked: frozenset[str]) -> frozenset[str] | None:
        tag = elem.tag
        if tag == "choose":
            variable = checked_variable(elem)
            if variable is not None:
                self.checked.add(variable)
                return unchecked - {variable}
            branches = _children(elem)
            outs = [self.run(_children(b), unchecked) for b in branches]
            if not any(b.tag == "otherwise" for b in branches):
                outs.append(unchecked)
            reached = [o for o in outs if o is not None]
            return frozenset().union(*reached) if reached else None
        if tag == "retry":
            first = self.run(_children(elem), unchecked)
            if first is None:
                return None
            return self.run(_children(elem), unchecked | first)  # the body runs again
        if tag == "return-response":
            return None
        if tag == "set-variable":
            value = elem.attrib["value"]
            name = elem.attrib["name"]
            if not is_expression(value):
                return unchecked - {name}
            reads = strict_reads(value) | safe_reads(value)
            if _ids_read(value) or reads & unchecked:
                return unchecked | {name}
            return unchecked - {name}
        if tag in ("cache-lookup-value", "cache-store-value", "cache-remove-value"):
            self._sink(tag, elem.attrib["key"], unchecked)
            if tag == "cache-lookup-value":
                return unchecked - {elem.attrib["variable-name"]}
            return unchecked
        if tag == "send-request":
            url = elem.find("set-url")
            for code in [] if url is None else own_expressions(url):
                self._sink("send-request url", code, unchecked)
            return unchecked - {elem.attrib["response-variable-name"]}
        return unchecked

    def check(self, root: ET.Element) -> list[str]:
        unchecked: frozenset[str] | None = frozenset()
        for name in ("inbound", "backend", "outbound"):
            section = root.find(name)
            if section is not None and unchecked is not None:
                unchecked = self.run(_children(section), unchecked)
        return self.errors


def _root(size: int, index: int) -> ET.Element:
    return parse(apis_for(size)[index].policy_xml)


@pytest.mark.parametrize(("size", "index"), POLICY_CASES)
def test_client_ids_are_checked_before_cache_and_probes(size: int, index: int) -> None:
    root = _root(size, index)
    flow = ClientIdFlow()
    assert flow.check(root) == []
    api_id = apis_for(size)[index].api_id
    read: set[str] = set()
    for elem in root.iter():
        for code in own_expressions(elem):
            read |= _ids_read(code)
    assert read == EXPECTED_IDS[api_id]  # the ids the walk followed
    assert flow.checked == EXPECTED_CHECKED[api_id]
    on_error = root.find("on-error")
    assert on_error is not None
    assert not [e for e in on_error.iter() if e.tag in _SINKS]


def test_every_client_id_is_checked_right_after_it_is_read() -> None:
    """Each path/body id is read into `lookupId`, the session id into `sessionId`; the next
    `choose` after every such setter is the check of that variable."""
    for index in (1, 2):
        root = _root(2, index)
        for parent in root.iter():
            kids = _children(parent)
            for i, elem in enumerate(kids):
                name = elem.attrib.get("name")
                value = elem.attrib.get("value", "")
                if elem.tag != "set-variable" or name not in ("lookupId", "sessionId"):
                    continue
                if value == '@("")' or "Guid.NewGuid()" in value:
                    continue  # not from the client
                following = [k for k in kids[i + 1 :] if k.tag == "choose"]
                assert following, value
                assert checked_variable(following[0]) == name, value


def _real_check(variable: str) -> str:
    """The rendered id check (with its 400 answer), on another variable."""
    root = _root(2, 1)
    check = next(c for c in root.iter("choose") if checked_variable(c) == "lookupId")
    return ET.tostring(check, encoding="unicode").replace("lookupId", variable)


def _walk(inbound: str) -> list[str]:
    root = parse(f"<policies><inbound>{inbound}</inbound><backend /><outbound /></policies>")
    return ClientIdFlow().check(root)


_SET_ID = (
    '<set-variable name="id" value="@(context.Request.MatchedParameters[&quot;file_id&quot;])" />'
)
_SET_KEY = (
    '<set-variable name="key" '
    'value="@(&quot;file:&quot; + (string)context.Variables[&quot;id&quot;])" />'
)
_LOOKUP = (
    '<cache-lookup-value key="@((string)context.Variables[&quot;key&quot;])" variable-name="r" '
    'default-value="" caching-type="external" />'
)
_PROBE = (
    '<send-request mode="new" response-variable-name="p" timeout="20" ignore-error="true">'
    '<set-url>@("https://a/files/" + (string)context.Variables["key"])</set-url></send-request>'
)


def test_walk_accepts_a_checked_id() -> None:
    assert _walk(_SET_ID + _real_check("id") + _SET_KEY + _LOOKUP + _PROBE) == []


@pytest.mark.parametrize(
    "inbound",
    [
        pytest.param(_SET_ID + _SET_KEY + _LOOKUP, id="never-checked"),
        pytest.param(_SET_ID + _SET_KEY + _PROBE, id="probe-url"),
        pytest.param(_SET_ID + _SET_KEY + _real_check("id") + _LOOKUP, id="key-made-before-check"),
        pytest.param(
            _SET_ID
            + '<choose><when condition="@(true)">'
            + _real_check("id")
            + "</when></choose>"
            + _SET_KEY
            + _LOOKUP,
            id="checked-on-one-path-only",
        ),
        pytest.param(
            _SET_ID + _real_check("id").replace('code="400"', 'code="200"') + _SET_KEY + _LOOKUP,
            id="check-that-does-not-reject",
        ),
        pytest.param(
            _SET_ID + _real_check("id").replace("128", "300") + _SET_KEY + _LOOKUP,
            id="check-too-loose",
        ),
        pytest.param(
            '<cache-lookup-value key="@(&quot;file:&quot; + '
            'context.Request.MatchedParameters[&quot;file_id&quot;])" variable-name="r" '
            'default-value="" caching-type="external" />',
            id="read-in-the-key",
        ),
    ],
)
def test_walk_sees_an_unchecked_id(inbound: str) -> None:
    assert _walk(inbound) != []
