from __future__ import annotations

from pathlib import Path

import requests

from tests.fakes.arm import FakeArm
from tests.fakes.fixtures import sdk_clients
from tests.fakes.server import serve_https
from tests.fakes_tests.helpers import SUB


def test_served_over_https_with_a_test_ca(tmp_path: Path) -> None:
    fake = FakeArm()
    fake.seed_foundry("f1", "rg-f", "eastus2")
    with serve_https(fake, tmp_path) as served:
        url = f"{served.base_url}/subscriptions/{SUB}/resourceGroups/rg-f?api-version=2025-04-01"
        response = requests.get(url, verify=str(served.ca_file), timeout=5)
        assert response.status_code == 200
        assert response.json()["location"] == "eastus2"
        clients = sdk_clients(SUB, served.base_url, verify=str(served.ca_file))
        rg = clients.resources.resource_groups.create_or_update("rg-new", {"location": "eastus"})
        assert rg.name == "rg-new"
        clients.resources.resource_groups.begin_delete("rg-new").result()
    assert fake.spec_violations == []
    assert [c.method for c in fake.writes()] == ["PUT", "DELETE"]
