from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization.v2022_04_01 import models as auth

from tests.fakes_tests.helpers import SUB, Env, create_apim, fake_env

USER_ROLE = "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd"


def _role_id() -> str:
    return f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{USER_ROLE}"


def _assign(env: Env, scope: str, principal: str, principal_type: str, name: str) -> None:
    params = auth.RoleAssignmentCreateParameters(
        role_definition_id=_role_id(), principal_id=principal, principal_type=principal_type
    )
    env.clients.authorization.role_assignments.create(scope, name, params)


def test_duplicate_assignment_under_another_name_is_409() -> None:
    with fake_env(principal_not_found_calls=0) as env:
        foundry = env.fake.seed_foundry("f1", "rg-f", "eastus2")
        principal = str(uuid.uuid4())
        _assign(env, foundry, principal, "ServicePrincipal", str(uuid.uuid4()))
        with pytest.raises(HttpResponseError) as info:
            _assign(env, foundry, principal, "ServicePrincipal", str(uuid.uuid4()))
        assert info.value.status_code == 409
        assert info.value.error is not None and info.value.error.code == "RoleAssignmentExists"
        found = list(
            env.clients.authorization.role_assignments.list_for_scope(
                foundry, filter=f"principalId eq '{principal}'"
            )
        )
        assert len(found) == 1 and found[0].scope == foundry


def test_fresh_principal_is_not_found_at_first() -> None:
    with fake_env(principal_not_found_calls=2) as env:
        service = create_apim(env)
        assert service.identity is not None
        principal = str(service.identity.principal_id)
        foundry = env.fake.seed_foundry("f1", "rg-f", "eastus2")
        name = str(uuid.uuid4())
        codes = []
        for principal_type in ("User", "ServicePrincipal", "ServicePrincipal"):
            try:
                _assign(env, foundry, principal, principal_type, name)
                codes.append("ok")
            except HttpResponseError as exc:
                assert exc.error is not None
                codes.append(str(exc.error.code))
        assert codes == ["PrincipalNotFound", "ok", "ok"]


def test_service_principal_type_still_fails_once() -> None:
    with fake_env(principal_not_found_calls=3) as env:
        foundry = env.fake.seed_foundry("f1", "rg-f", "eastus2")
        principal = str(uuid.uuid4())
        env.fake.register_principal(principal)
        with pytest.raises(HttpResponseError) as info:
            _assign(env, foundry, principal, "ServicePrincipal", str(uuid.uuid4()))
        assert info.value.error is not None and info.value.error.code == "PrincipalNotFound"
        _assign(env, foundry, principal, "ServicePrincipal", str(uuid.uuid4()))


def test_role_definitions_by_name_and_id() -> None:
    with fake_env() as env:
        foundry = env.fake.seed_foundry("f1", "rg-f", "eastus2")
        defs = env.clients.authorization.role_definitions
        found = list(
            defs.list(foundry, filter="roleName eq 'Cognitive Services OpenAI Contributor'")
        )
        assert [d.name for d in found] == ["a001fd3d-188f-4b5d-821b-7da978bf7442"]
        assert defs.get(foundry, USER_ROLE).role_name == "Cognitive Services OpenAI User"


def test_foundry_reads_and_forbidden_writes() -> None:
    with fake_env() as env:
        env.fake.seed_foundry("f1", "rg-f", "eastus2")
        account = env.clients.cognitive.accounts.get("rg-f", "f1")
        assert account.location == "eastus2"
        assert account.properties is not None and account.properties.endpoints is not None
        assert account.properties.endpoints["OpenAI Language Model Instance API"] == (
            "https://f1.openai.azure.com/"
        )
        assert list(env.clients.cognitive.deployments.list("rg-f", "f1")) == []
        with pytest.raises(HttpResponseError):
            env.clients.cognitive.accounts.begin_delete("rg-f", "f1").result()
        assert env.fake.spec_violations == [
            f"DELETE {account.id}: foundry accounts must never be written"
        ]
