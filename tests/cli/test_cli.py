"""The CLI against FakeArm, in process: exit codes, JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from batchgw import console
from batchgw.cli import app
from tests.conftest import CONFIG, FOUNDRIES, FOUNDRY_RG, SUB
from tests.fakes.arm import FakeArm
from tests.fakes.fixtures import installed

runner = CliRunner()


@pytest.fixture
def cli_arm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    """FakeArm at the public ARM URL; the CLI builds its own clients as in production."""
    fake = FakeArm(subscription_id=SUB, principal_not_found_calls=0)
    for name, location in FOUNDRIES:
        fake.seed_foundry(name, FOUNDRY_RG, location)
    monkeypatch.setenv("BATCHGW_ARM_TOKEN", "test-token")
    with installed(fake):
        yield fake
    assert fake.spec_violations == []


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_plan_json_then_deploy_then_plan_is_clean(cli_arm: FakeArm, config_file: Path) -> None:
    code, out, err = invoke("plan", "-c", str(config_file), "--json", "--detailed-exitcode")
    assert code == 2, err
    data = json.loads(out)
    assert set(data) >= {"changes", "summary"}
    assert set(data["changes"][0]) >= {"step", "action", "type", "name", "id", "diff"}
    assert data["summary"]["create"] == len(data["changes"])
    assert cli_arm.writes() == []

    code, out, err = invoke("deploy", "-c", str(config_file), "--yes")
    assert code == 0, err
    assert "azure-api.net" in out

    code, out, err = invoke("plan", "-c", str(config_file), "--detailed-exitcode")
    assert code == 0, err
    assert "No changes" in out

    code, out, err = invoke("show-endpoints", "-c", str(config_file), "--json")
    assert code == 0, err
    endpoints = json.loads(out)
    for key in (
        "apim_gateway_url",
        "batch_api_path",
        "sticky_batch_api_path",
        "realtime_chat_api_path",
        "redis_hostname",
    ):
        assert endpoints[key]
    assert "password" not in out + err


def test_options_may_come_before_the_command(cli_arm: FakeArm, config_file: Path) -> None:
    code, out, err = invoke("-c", str(config_file), "plan", "--json")
    assert code == 0, err
    assert json.loads(out)["summary"]["create"] > 0


def test_deploy_refuses_without_yes_off_a_terminal(
    cli_arm: FakeArm, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "is_interactive", lambda: False)
    code, _out, err = invoke("deploy", "-c", str(config_file))
    assert code == 1
    assert "--yes" in err
    assert cli_arm.writes() == []


def test_teardown_purge_leaves_only_the_foundries(cli_arm: FakeArm, config_file: Path) -> None:
    before = set(cli_arm.resource_ids())
    assert invoke("deploy", "-c", str(config_file), "--yes")[0] == 0
    code, _out, err = invoke("teardown", "-c", str(config_file), "--yes", "--purge")
    assert code == 0, err
    assert set(cli_arm.resource_ids()) == before


BAD_CONFIGS = {
    "missing field": (
        CONFIG.replace('publisher_email = "admin@contoso.com"\n', ""),
        "publisher_email",
    ),
    "no foundries": (CONFIG.split("[[foundries]]")[0], "foundries"),
    "typo in a key": (CONFIG.replace("weight = 2", "wieght = 2"), "wieght"),
    "bad environment": (
        CONFIG.replace('environment = "dev"', 'environment = "Dev-1"'),
        "environment",
    ),
    "not toml": ("subscription_id = ", "TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_gives_one_clear_line_and_no_traceback(
    cli_arm: FakeArm, tmp_path: Path, case: str
) -> None:
    text, word = BAD_CONFIGS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = invoke("plan", "-c", str(path))
    assert code == 1
    assert word in err
    assert "Traceback" not in err + out
    assert cli_arm.calls == []


def test_unknown_foundry_is_named(cli_arm: FakeArm, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.replace('name = "batch-west"', 'name = "batch-missing"'))
    code, _out, err = invoke("plan", "-c", str(path), "--json")
    assert code == 1
    assert "batch-missing" in err
    assert cli_arm.writes() == []


def test_missing_config_file(tmp_path: Path) -> None:
    code, _out, err = invoke("plan", "-c", str(tmp_path / "nope.toml"))
    assert code == 1
    assert "not found" in err


def test_offline_plan_needs_no_network(config_file: Path) -> None:
    code, out, err = invoke("plan", "--offline", "-c", str(config_file), "--detailed-exitcode")
    assert code == 2, err
    assert "(known after apply)" in out
    assert "Plan:" in out


def test_example_config_plans_offline() -> None:
    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    code, out, err = invoke("plan", "--offline", "-c", str(example), "--json")
    assert code == 0, err
    changes = json.loads(out)["changes"]
    apis = [c for c in changes if c["type"].endswith("/apis")]
    assert {c["name"] for c in apis} == {"openai", "openai-sticky", "openai-realtime"}
    operations = [c for c in changes if c["type"].endswith("/operations")]
    assert len(operations) == 25
    # Without endpoint hints the policies can't be rendered yet, and the plan says so.
    policies = [c for c in changes if c["type"].endswith("/policies")]
    assert len(policies) == 3
    assert all(c["diff"]["policy"]["after"] == "(known after apply)" for c in policies)


def test_help_and_config_errors_do_not_import_the_azure_sdks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("environment = 1\n")
    probe = (
        "import sys\n"
        "from batchgw.cli import app\n"
        "for args in (['--help'], ['plan', '-c', sys.argv[1]]):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('azure')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(bad)], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


def test_simulate_reports_json_and_succeeds(config_file: Path) -> None:
    code, out, err = invoke("simulate", "-c", str(config_file), "--json", "--clients", "4")
    assert code == 0, err
    report = json.loads(out)
    for key in (
        "requests",
        "requests_by_region",
        "workflows_completed",
        "workflows_failed",
        "ownership_errors",
        "affinity",
        "cache_ops_per_request",
    ):
        assert key in report
    assert report["ownership_errors"] == 0 and report["workflows_failed"] == 0
    assert set(report["requests_by_region"]) >= {"batch-east", "batch-west"}


def test_simulate_text_report(config_file: Path) -> None:
    code, out, err = invoke("simulate", "-c", str(config_file), "--clients", "2")
    assert code == 0, err
    assert "ownership" in out.lower()


def test_json_errors_are_json_on_stdout(cli_arm: FakeArm, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.replace('name = "batch-west"', 'name = "batch-missing"'))
    code, out, err = invoke("plan", "-c", str(path), "--json")
    assert code == 1
    error = json.loads(out)["error"]
    assert error["code"] == "config" and "batch-missing" in error["message"] and error["hint"]
    assert err.startswith("Error:")


def test_answering_no_changes_nothing(
    cli_arm: FakeArm, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "is_interactive", lambda: True)
    result = runner.invoke(app, ["deploy", "-c", str(config_file)], input="n\n")
    assert result.exit_code == 1
    assert "nothing was changed" in result.stderr
    assert cli_arm.writes() == []


def test_answering_yes_deploys(
    cli_arm: FakeArm, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "is_interactive", lambda: True)
    result = runner.invoke(app, ["deploy", "-c", str(config_file)], input="y\n")
    assert result.exit_code == 0, result.stderr
    assert "Deploy complete." in result.stderr
