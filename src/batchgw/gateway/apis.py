"""The gateway's three APIs (GATEWAY.md) as data: operations plus one API-level policy each.

Only API-level policies: the policy dispatches on `context.Operation.Id`, so reading what is
deployed costs one request per API, however many operations there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from batchgw.gateway.render import render_policy
from batchgw.gateway.spec import GatewaySpec


@dataclass(frozen=True, slots=True)
class OperationSpec:
    operation_id: str
    method: str
    url_template: str
    display_name: str
    template_parameters: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApiSpec:
    api_id: str
    path: str
    display_name: str
    operations: tuple[OperationSpec, ...]
    policy_xml: str


def _op(operation_id: str, method: str, url_template: str, display_name: str) -> OperationSpec:
    params = tuple(re.findall(r"\{(\w+)\}", url_template))
    return OperationSpec(operation_id, method, url_template, display_name, params)


# The nine batch operations; the operation ids are what the policies dispatch on.
BATCH_OPERATIONS = (
    _op("files-create", "POST", "/files", "Upload file"),
    _op("files-list", "GET", "/files", "List files"),
    _op("files-get", "GET", "/files/{file_id}", "Retrieve file"),
    _op("files-delete", "DELETE", "/files/{file_id}", "Delete file"),
    _op("files-content", "GET", "/files/{file_id}/content", "Retrieve file content"),
    _op("batches-create", "POST", "/batches", "Create batch"),
    _op("batches-list", "GET", "/batches", "List batches"),
    _op("batches-get", "GET", "/batches/{batch_id}", "Retrieve batch"),
    _op("batches-cancel", "POST", "/batches/{batch_id}/cancel", "Cancel batch"),
)

REALTIME_OPERATIONS = (
    _op("responses-create", "POST", "/responses", "Create response"),
    _op("responses-get", "GET", "/responses/{response_id}", "Retrieve response"),
    _op("responses-delete", "DELETE", "/responses/{response_id}", "Delete response"),
    _op("responses-cancel", "POST", "/responses/{response_id}/cancel", "Cancel response"),
    _op(
        "responses-input-items",
        "GET",
        "/responses/{response_id}/input_items",
        "List response input items",
    ),
    _op("chat-completions", "POST", "/chat/completions", "Create chat completion"),
    _op("embeddings", "POST", "/embeddings", "Create embeddings"),
)

_APIS = (
    ("openai", "openai", "OpenAI batch (load-balanced)", BATCH_OPERATIONS),
    ("openai-sticky", "openai-sticky", "OpenAI batch (region-sticky)", BATCH_OPERATIONS),
    ("openai-realtime", "openai-realtime", "OpenAI responses and chat", REALTIME_OPERATIONS),
)


def build_apis(gateway: GatewaySpec) -> tuple[ApiSpec, ...]:
    """The three APIs, policies rendered for this gateway's regions."""
    return tuple(
        ApiSpec(
            api_id=api_id,
            path=path,
            display_name=display_name,
            operations=operations,
            policy_xml=render_policy(gateway, api_id),
        )
        for api_id, path, display_name, operations in _APIS
    )


def api_skeletons() -> tuple[ApiSpec, ...]:
    """The APIs and operations without policies: what an offline plan knows before regions."""
    return tuple(
        ApiSpec(api_id, path, display_name, operations, policy_xml="")
        for api_id, path, display_name, operations in _APIS
    )
