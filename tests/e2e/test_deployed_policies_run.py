"""The policy documents a deploy actually sent run in the simulator, unchanged."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from batchgw import engine
from batchgw.azure import AzureClients
from batchgw.config import Settings
from batchgw.simulator import run_scenario
from tests.conftest import Sleeps
from tests.fakes.arm import FakeArm


def test_the_xml_deploy_sends_is_the_xml_the_simulator_runs(
    settings: Settings, clients: AzureClients, arm: FakeArm, sleeps: Sleeps
) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is needed: apt-get install redis-server (scripts/setup does)")
    snapshot = engine.read_state(settings, clients)
    engine.apply_plan(settings, clients, snapshot, sleep=sleeps)
    sent = {
        call.path.split("/apis/")[1].split("/")[0]: call.body["properties"]["value"]  # type: ignore[index]
        for call in arm.calls
        if call.method == "PUT" and call.path.lower().endswith("/policies/policy")
    }
    assert snapshot.desired.gateway is not None and snapshot.desired.apis is not None
    assert set(sent) == {"openai", "openai-sticky", "openai-realtime"}
    deployed = tuple(
        dataclasses.replace(api, policy_xml=sent[api.api_id]) for api in snapshot.desired.apis
    )

    report = run_scenario(snapshot.desired.gateway, clients=6, apis=deployed, seed=1)

    assert report.ok, report.lines()
    data = report.to_dict()
    assert data["ownership_errors"] == 0 and data["workflows_failed"] == 0
    by_region = data["requests_by_region"]
    assert isinstance(by_region, dict) and set(by_region) == {"eastus2", "westus3"}
