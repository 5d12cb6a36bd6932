"""Shared set-up for the tests of the fake: a FakeArm behind responses with real SDK clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from azure.mgmt.apimanagement import models as apim_models

from tests.fakes.arm import FakeArm
from tests.fakes.fixtures import SdkClients, installed, sdk_clients

SUB = "00000000-0000-0000-0000-000000000000"
RG = "rg-test"
APIM = "apim-test"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
APIM_ID = f"{RG_ID}/providers/Microsoft.ApiManagement/service/{APIM}"


@dataclass(frozen=True)
class Env:
    fake: FakeArm
    clients: SdkClients


@contextmanager
def fake_env(**options: float | int | bool) -> Iterator[Env]:
    fake = FakeArm(**options)  # type: ignore[arg-type]  # options are FakeArm's keywords
    with installed(fake):
        yield Env(fake, sdk_clients(SUB))


def create_rg(env: Env) -> None:
    env.clients.resources.resource_groups.create_or_update(RG, {"location": "eastus"})


def create_apim(env: Env) -> apim_models.ApiManagementServiceResource:
    create_rg(env)
    service = apim_models.ApiManagementServiceResource(
        location="eastus",
        sku=apim_models.ApiManagementServiceSkuProperties(name="Developer", capacity=1),
        publisher_email="admin@example.com",
        publisher_name="Example",
        identity=apim_models.ApiManagementServiceIdentity(type="SystemAssigned"),
    )
    return env.clients.apim.api_management_service.begin_create_or_update(
        RG, APIM, service
    ).result()
