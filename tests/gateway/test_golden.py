"""The rendered policies for a 2-region gateway, byte for byte.

Regenerate after an intended change with `BATCHGW_REGEN_GOLDEN=1 pytest tests/gateway`, then
read the diff of tests/gateway/golden/ before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gateway.conftest import apis_for

GOLDEN = Path(__file__).parent / "golden"
# Read at import: an autouse fixture may clear BATCHGW_* variables before tests run.
REGENERATE = os.environ.get("BATCHGW_REGEN_GOLDEN") == "1"


@pytest.mark.parametrize("index", [0, 1, 2], ids=["openai", "openai-sticky", "openai-realtime"])
def test_policy_matches_golden(index: int) -> None:
    api = apis_for(2)[index]
    path = GOLDEN / f"{api.api_id}.xml"
    if REGENERATE:
        path.write_text(api.policy_xml, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == api.policy_xml
