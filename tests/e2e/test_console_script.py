"""The installed `batchgw` console script as a subprocess, against FakeArm served over HTTPS."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CONFIG, FOUNDRIES, FOUNDRY_RG, SUB
from tests.fakes.arm import FakeArm
from tests.fakes.fixtures import cli_env, served
from tests.fakes.server import ServedArm


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def batchgw_command() -> list[str]:
    script = Path(sys.executable).with_name("batchgw")
    if script.exists():
        return [str(script)]
    found = shutil.which("batchgw")
    assert found, "the batchgw console script is not installed (pip install -e .)"
    return [found]


@pytest.fixture
def served_arm(tmp_path: Path) -> Iterator[tuple[FakeArm, ServedArm]]:
    # Fresh principals are retried with real sleeps in a subprocess; the in-process tests
    # cover PrincipalNotFound with an injected sleeper, so this fake answers at once.
    fake = FakeArm(subscription_id=SUB, principal_not_found_calls=0, retry_after=0.01)
    for name, location in FOUNDRIES:
        fake.seed_foundry(name, FOUNDRY_RG, location)
    with served(fake, tmp_path) as arm:
        yield fake, arm
    assert fake.spec_violations == []


def run(arm: ServedArm, *args: str, extra: dict[str, str] | None = None) -> Run:
    env = cli_env(arm)
    env.update(extra or {})
    for key in [k for k in env if k.startswith("AZURE_")]:
        del env[key]
    env.update({"NO_COLOR": "1", "COLUMNS": "120"})
    done = subprocess.run(
        [*batchgw_command(), *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def test_whole_lifecycle_over_https(
    served_arm: tuple[FakeArm, ServedArm], config_file: Path
) -> None:
    fake, arm = served_arm
    foundries = set(fake.resource_ids())
    fake.throttle_every(17)
    config = str(config_file)

    first = run(arm, "plan", "-c", config, "--detailed-exitcode")
    assert first.code == 2, first.err
    assert "Plan:" in first.out and "to add" in first.out
    assert fake.writes() == []

    deployed = run(arm, "deploy", "-c", config, "--yes")
    assert deployed.code == 0, deployed.err
    assert "azure-api.net" in deployed.out

    clean = run(arm, "plan", "-c", config, "--detailed-exitcode")
    assert clean.code == 0, clean.err
    assert "No changes" in clean.out

    writes = len(fake.writes())
    again = run(arm, "deploy", "-c", config, "--yes")
    assert again.code == 0, again.err
    assert len(fake.writes()) == writes, "a redeploy with nothing to change must not write"

    shown = run(arm, "show-endpoints", "-c", config, "--json")
    assert shown.code == 0, shown.err
    endpoints = json.loads(shown.out)
    assert endpoints["apim_gateway_url"].startswith("https://")
    assert endpoints["sticky_batch_api_path"] == "openai-sticky"

    gone = run(arm, "teardown", "-c", config, "--yes", "--purge")
    assert gone.code == 0, gone.err
    assert set(fake.resource_ids()) == foundries
    throttled = [c for c in fake.calls if c.status == 429]
    assert throttled, "light throttling was injected and must have been retried"
    for result in (first, deployed, clean, again, shown, gone):
        assert "password" not in result.out + result.err
        assert "Traceback" not in result.err


BAD = {
    "missing field": CONFIG.replace('location = "eastus"\n', ""),
    "no foundries": CONFIG.split("[[foundries]]")[0],
    "unknown foundry": CONFIG.replace('name = "batch-west"', 'name = "batch-ghost"'),
    "typo in a key": CONFIG.replace('publisher_name = "Contoso"', 'publisher_nmae = "Contoso"'),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_one_clear_line_and_no_write(
    served_arm: tuple[FakeArm, ServedArm], tmp_path: Path, case: str
) -> None:
    fake, arm = served_arm
    path = tmp_path / "bad.toml"
    path.write_text(BAD[case])

    result = run(arm, "deploy", "-c", str(path), "--yes")

    assert result.code == 1
    assert "Traceback" not in result.err
    first = result.err.strip().splitlines()[0]
    assert first.startswith("Error:"), result.err
    assert fake.writes() == []


def test_environment_overrides_the_file(
    served_arm: tuple[FakeArm, ServedArm], config_file: Path
) -> None:
    _fake, arm = served_arm
    env_run = run(
        arm,
        "plan",
        "--json",
        extra={"BATCHGW_CONFIG": str(config_file), "BATCHGW_ENVIRONMENT": "prod"},
    )
    assert env_run.code == 0, env_run.err
    names = {c["name"] for c in json.loads(env_run.out)["changes"]}
    assert "rg-apim-prod" in names and "rg-apim-dev" not in names


def test_a_deploy_killed_midway_is_finished_by_deploying_again(
    served_arm: tuple[FakeArm, ServedArm], config_file: Path
) -> None:
    fake, arm = served_arm
    fake.set_lro_seconds("microsoft.apimanagement/service", 2.0)
    fake.set_lro_seconds("microsoft.cache/redisenterprise", 2.0)
    env = cli_env(arm)
    env.update({"NO_COLOR": "1"})
    process = subprocess.Popen(
        [*batchgw_command(), "deploy", "-c", str(config_file), "--yes"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _apim_put_sent(fake):
        time.sleep(0.05)
    time.sleep(0.3)
    process.kill()  # mid-way: APIM and Redis are still being created
    process.wait(timeout=10)

    resumed = run(arm, "deploy", "-c", str(config_file), "--yes")
    assert resumed.code == 0, resumed.err
    clean = run(arm, "plan", "-c", str(config_file), "--detailed-exitcode")
    assert clean.code == 0, clean.out + clean.err


def _apim_put_sent(fake: FakeArm) -> bool:
    return any(
        c.method == "PUT"
        and c.path.lower().split("/providers/")[-1].count("/") == 2
        and "microsoft.apimanagement/service/" in c.path.lower()
        for c in list(fake.calls)
    )
