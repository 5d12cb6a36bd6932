"""Building blocks the lead can wire into conftest.py (plain functions, no pytest magic)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import responses
from azure.mgmt.apimanagement import ApiManagementClient
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.redis import RedisManagementClient
from azure.mgmt.redisenterprise import RedisEnterpriseManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from tests.fakes.arm import FakeArm
from tests.fakes.server import ServedArm, serve_https
from tests.fakes.transport import NoSleepTransport, StaticToken

ARM_BASE_URL = "https://management.azure.com"


@contextmanager
def installed(fake: FakeArm, base_url: str = ARM_BASE_URL) -> Iterator[responses.RequestsMock]:
    """FakeArm behind responses: any request it does not match fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake.install(rsps, base_url)
        yield rsps


@contextmanager
def served(fake: FakeArm, tmp_dir: Path) -> Iterator[ServedArm]:
    with serve_https(fake, tmp_dir) as arm:
        yield arm


def cli_env(arm: ServedArm, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for running the batchgw console script against a served FakeArm."""
    env = dict(os.environ if base is None else base)
    env.update(
        {
            "BATCHGW_ARM_ENDPOINT": arm.base_url,
            "BATCHGW_ARM_TOKEN": "fake-arm-token",
            "REQUESTS_CA_BUNDLE": str(arm.ca_file),
        }
    )
    return env


@dataclass(frozen=True)
class SdkClients:
    """The real azure SDK clients pointed at a fake endpoint (for testing the fake itself)."""

    transport: NoSleepTransport
    apim: ApiManagementClient
    redis_enterprise: RedisEnterpriseManagementClient
    redis: RedisManagementClient
    authorization: AuthorizationManagementClient
    resources: ResourceManagementClient
    cognitive: CognitiveServicesManagementClient


def sdk_clients(
    subscription_id: str, base_url: str = ARM_BASE_URL, *, verify: str | bool = True
) -> SdkClients:
    transport = NoSleepTransport(connection_verify=verify)
    scopes = [base_url + "/.default"]
    cred = StaticToken()
    sub = subscription_id
    return SdkClients(
        transport=transport,
        apim=ApiManagementClient(
            cred, sub, base_url=base_url, credential_scopes=scopes, transport=transport
        ),
        redis_enterprise=RedisEnterpriseManagementClient(
            cred, sub, base_url=base_url, credential_scopes=scopes, transport=transport
        ),
        redis=RedisManagementClient(
            cred, sub, base_url=base_url, credential_scopes=scopes, transport=transport
        ),
        authorization=AuthorizationManagementClient(
            cred, sub, base_url=base_url, credential_scopes=scopes, transport=transport
        ),
        resources=ResourceManagementClient(
            cred, sub, base_url=base_url, credential_scopes=scopes, transport=transport
        ),
        cognitive=CognitiveServicesManagementClient(
            cred, sub, base_url=base_url, credential_scopes=scopes, transport=transport
        ),
    )
