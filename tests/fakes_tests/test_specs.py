from __future__ import annotations

import json

import pytest

from tests.fakes.specs import shared_dir, validate_body

APIM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/a"
CACHE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache"
EXAMPLES = (
    "arm-specs/specification/apimanagement/resource-manager/Microsoft.ApiManagement"
    "/stable/2024-05-01/examples"
)


@pytest.mark.parametrize(
    ("example", "path"),
    [
        ("ApiManagementCreateBackendProxyBackend.json", f"{APIM}/backends/b"),
        ("ApiManagementCreateBackendWithPriorityBasedLoadBalancer.json", f"{APIM}/backends/p"),
        ("ApiManagementCreateService.json", APIM),
        ("ApiManagementCreateCache.json", f"{APIM}/caches/c"),
        ("ApiManagementCreateApi.json", f"{APIM}/apis/x"),
        ("ApiManagementCreateApiOperation.json", f"{APIM}/apis/x/operations/o"),
        ("ApiManagementCreateApiPolicy.json", f"{APIM}/apis/x/policies/policy"),
    ],
)
def test_spec_examples_are_valid(example: str, path: str) -> None:
    data = json.loads((shared_dir() / EXAMPLES / example).read_text(encoding="utf-8"))
    assert validate_body("PUT", path, data["parameters"]["parameters"]) == []


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        (
            f"{APIM}/backends/b",
            {"properties": {"url": "https://x", "protocol": "ftp"}},
            "body.properties.protocol: 'ftp' is not one of",
        ),
        (
            f"{APIM}/backends/b",
            {"properties": {"url": "https://x", "protocol": "HTTP", "colour": "red"}},
            "body.properties.colour: property not in the spec",
        ),
        (f"{APIM}/backends/b", {"properties": {"url": "https://x"}}, "protocol: required"),
        (
            f"{APIM}/caches/c",
            {"properties": {"connectionString": "x", "useFromLocation": "default"}, "id": "/x"},
            "body.id: readOnly property must not be sent",
        ),
        (
            f"{CACHE}/redisEnterprise/r/databases/default",
            {"properties": {"port": "10000"}},
            "body.properties.port: expected integer",
        ),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/g",
            {"properties": {"principalId": "p"}},
            "roleDefinitionId: required property missing",
        ),
        ("/subscriptions/s/resourcegroups/rg", {"tags": {"a": 1}}, "body.location: required"),
    ],
)
def test_violations_are_reported(path: str, body: object, expected: str) -> None:
    problems = validate_body("PUT", path, body)
    assert problems is not None
    assert any(expected in p for p in problems), problems


def test_modelasstring_enums_compare_case_insensitively() -> None:
    body = {"properties": {"url": "https://x", "protocol": "HTTP"}}
    assert validate_body("PUT", f"{APIM}/backends/b", body) == []


def test_unknown_path_has_no_spec() -> None:
    assert validate_body("PUT", "/subscriptions/s/providers/Microsoft.Nope/things/x", {}) is None
