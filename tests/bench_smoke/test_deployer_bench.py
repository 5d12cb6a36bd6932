"""The deployer benchmark runs end to end with tiny durations and prints every figure line.

Not a timed test: the figures' values and verdicts are not asserted, only that each is printed.
"""

from __future__ import annotations

import re

import pytest
from bench import deployer

TINY = [
    "--latency", "0.01",
    "--lro-seconds", "0.1",
    "--deploy-latency", "0.01",
    "--foundries", "2",
    "--repeat", "1",
    "--startup-repeat", "1",
]  # fmt: skip

FIGURE_LABELS = (
    "plan depth (2 foundries)",
    "plan requests (2 foundries)",
    "plan requests per extra foundry",
    "deploy (2 foundries)",
    "deploy round trips outside the LROs (2 foundries)",
    "redeploy writes",
    "redeploy / plan wall",
    "startup `batchgw --help`",
    "startup `batchgw plan --offline`",
)


def test_benchmark_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert deployer.main(TINY) == 0

    lines = capsys.readouterr().out.splitlines()
    for label in FIGURE_LABELS:
        found = [line for line in lines if line.startswith(f"{label}: ")]
        assert len(found) == 1, (label, lines)
        assert re.search(r"\) (OK|MISS)|\(info, no target\)", found[0]), found[0]
    summary = re.fullmatch(r"(\d+)/(\d+) figures within target", lines[-1])
    assert summary is not None, lines[-1]
    assert int(summary.group(2)) == len(FIGURE_LABELS) - 1  # the round-trip line is info only


def test_options_parse_and_reject_nonsense() -> None:
    options = deployer.parse(["--foundries", "8,2,8", "--repeat", "2"])
    assert options.foundries == (2, 8)
    assert options.repeat == 2
    with pytest.raises(SystemExit):
        deployer.parse(["--latency", "0"])
