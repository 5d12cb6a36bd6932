"""Where the shared reference material is: ../shared beside the project, or $BATCHGW_SHARED_DIR."""

from __future__ import annotations

import os
from pathlib import Path


def shared_dir() -> Path:
    override = os.environ.get("BATCHGW_SHARED_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared"


def policy_schema_dir() -> Path:
    return (
        shared_dir()
        / "apim-policy-reference"
        / "vscode-apimanagement"
        / "resources"
        / "policySchemas"
    )
