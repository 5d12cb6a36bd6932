"""Shared fixtures: a FakeArm behind responses, production clients built against it, settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchgw.azure import AzureClients, make_clients
from batchgw.config import Settings, load_settings
from tests.fakes.arm import FakeArm
from tests.fakes.fixtures import installed
from tests.fakes.transport import NoSleepTransport, StaticToken

SUB = "00000000-0000-0000-0000-000000000000"
FOUNDRY_RG = "rg-batch-sticky"
FOUNDRIES = (("batch-east", "eastus2"), ("batch-west", "westus3"))

CONFIG = f"""
subscription_id = "{SUB}"
environment = "dev"
location = "eastus"
publisher_name = "Contoso"
publisher_email = "admin@contoso.com"

[[foundries]]
name = "batch-east"
resource_group = "{FOUNDRY_RG}"

[[foundries]]
name = "batch-west"
resource_group = "{FOUNDRY_RG}"
weight = 2
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("BATCHGW_", "AZURE_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "batchgw.toml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load_settings(config_file)


@pytest.fixture
def fake() -> Iterator[FakeArm]:
    arm = FakeArm(subscription_id=SUB, principal_not_found_calls=1)
    for name, location in FOUNDRIES:
        arm.seed_foundry(name, FOUNDRY_RG, location)
    yield arm
    assert arm.spec_violations == []


@pytest.fixture
def arm(fake: FakeArm) -> Iterator[FakeArm]:
    with installed(fake):
        yield fake


@pytest.fixture
def transport() -> NoSleepTransport:
    return NoSleepTransport()


@pytest.fixture
def clients(settings: Settings, arm: FakeArm, transport: NoSleepTransport) -> AzureClients:
    return make_clients(
        settings, credential=StaticToken(), transport=transport, polling_interval=0.01
    )


class Sleeps:
    """Stands in for time.sleep in the engine's own retry loops, recording each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
