"""console.py: consoles, errors on stderr, confirmation, and deploy progress."""

from __future__ import annotations

import io
import json
import re
import threading
from datetime import datetime

import pytest
from rich.console import Console

from batchgw.console import (
    Progress,
    confirm,
    describe,
    format_elapsed,
    is_interactive,
    make_consoles,
    print_error,
    print_json,
)
from batchgw.errors import BatchgwError, ConfigError
from batchgw.steps.base import Event


def recorder(*, terminal: bool = False) -> Console:
    return Console(
        file=io.StringIO(), width=100, no_color=True, force_terminal=terminal, record=True
    )


class FakeClock:
    """Monotonic time that moves only when told to; thread-safe enough for += on floats."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wall() -> datetime:
    return datetime(2025, 1, 2, 12, 3, 5)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            BatchgwError("API Management `apim-x` is not deployed", "run `batchgw deploy` first"),
            "Error: API Management `apim-x` is not deployed\n  -> run `batchgw deploy` first\n",
        ),
        (BatchgwError("no hint here"), "Error: no hint here\n"),
        (
            ConfigError(
                "batchgw.toml is not valid",
                "fix the fields above",
                details=(
                    "apim.sku: Input should be 'Developer' [type=literal]",
                    "foundries: empty",
                ),
            ),
            "Error: batchgw.toml is not valid\n"
            "  apim.sku: Input should be 'Developer' [type=literal]\n"
            "  foundries: empty\n"
            "  -> fix the fields above\n",
        ),
    ],
)
def test_print_error(error: BatchgwError, expected: str) -> None:
    err = recorder()
    print_error(err, error)
    assert err.export_text() == expected


def test_print_error_is_red_on_a_colour_terminal() -> None:
    err = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")
    print_error(err, BatchgwError("boom [x]", "retry"))
    raw = err.file.getvalue()  # type: ignore[attr-defined]  # the StringIO given above
    assert "\x1b[" in raw and "boom [x]" in raw  # coloured, and brackets are not markup


def test_print_json_writes_json_unwrapped_and_unstyled() -> None:
    out, _ = make_consoles(json_mode=True)
    out.file = io.StringIO()
    data = {"id": "/subscriptions/" + "x" * 200, "text": "[bold]not markup[/bold] :smile:"}
    print_json(out, data)
    written = out.file.getvalue()
    assert json.loads(written) == data
    assert written == json.dumps(data, indent=2) + "\n"


@pytest.mark.parametrize("json_mode", [False, True])
def test_make_consoles(monkeypatch: pytest.MonkeyPatch, json_mode: bool) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    out, err = make_consoles(json_mode=json_mode)
    assert err.stderr and not out.stderr
    assert out.soft_wrap and err.soft_wrap
    assert out.no_color is json_mode
    assert not out.is_terminal  # pytest captures stdout: no colour codes
    assert out.color_system is None
    monkeypatch.setenv("NO_COLOR", "1")
    out, err = make_consoles(json_mode=json_mode)
    assert out.no_color and err.no_color


class Stream(io.StringIO):
    def __init__(self, text: str = "", *, tty: bool = False) -> None:
        super().__init__(text)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("stdin_tty", "stderr_tty", "expected"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_is_interactive(
    monkeypatch: pytest.MonkeyPatch, stdin_tty: bool, stderr_tty: bool, expected: bool
) -> None:
    monkeypatch.setattr("sys.stdin", Stream(tty=stdin_tty))
    monkeypatch.setattr("sys.stderr", Stream(tty=stderr_tty))
    assert is_interactive() is expected


def test_is_interactive_with_a_closed_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    closed.close()  # isatty() on a closed stream raises ValueError
    monkeypatch.setattr("sys.stdin", closed)
    monkeypatch.setattr("sys.stderr", None)
    assert is_interactive() is False


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("y\n", True),
        ("yes\n", True),
        ("  YES  \n", True),
        ("n\n", False),
        ("\n", False),
        ("yep\n", False),
        ("", False),  # EOF
    ],
)
def test_confirm(monkeypatch: pytest.MonkeyPatch, typed: str, expected: bool) -> None:
    monkeypatch.setattr("sys.stdin", Stream(typed))
    err = recorder()
    assert confirm(err, "Deploy these changes?") is expected
    assert err.export_text().startswith("Deploy these changes? [y/N] ")


def test_confirm_with_a_closed_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stdin", closed)
    assert confirm(recorder(), "Deploy?") is False


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0s"),
        (3.21, "3.2s"),
        (59.94, "59.9s"),
        (59.96, "1m 00s"),
        (723.4, "12m 03s"),
        (3723, "1h 02m 03s"),
    ],
)
def test_format_elapsed(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


@pytest.mark.parametrize(
    ("label", "detail", "text"),
    [
        ("redis x", "creating", "creating redis x"),
        (
            "API Management apim-x",
            "creating (Developer tier takes 30-45 min)",
            "creating API Management apim-x (Developer tier takes 30-45 min)",
        ),
        ("role on foundry", "", "role on foundry"),
    ],
)
def test_describe(label: str, detail: str, text: str) -> None:
    assert describe(label, detail) == text


def test_plain_progress_lines() -> None:
    err, clock = recorder(), FakeClock()
    with Progress(err, clock=clock, now=wall) as progress:
        progress(Event("start", "ensure_redis", "redis redis-x", "creating"))
        clock.now += 3.21
        progress(Event("wait", "ensure_apis", "API openai", "API Management is busy, retrying"))
        progress(Event("info", "engine", "plan re-read", ""))
        progress(Event("done", "ensure_redis", "redis redis-x", "created"))
        progress(Event("done", "grant_roles", "role on batch-east", "granted"))  # never started
    assert err.export_text() == (
        "[12:03:05] creating redis redis-x ...\n"
        "[12:03:05] API openai: API Management is busy, retrying\n"
        "[12:03:05] plan re-read\n"
        "[12:03:05] created redis redis-x (3.2s)\n"
        "[12:03:05] granted role on batch-east\n"
    )


def test_plain_progress_from_many_threads() -> None:
    err, clock = recorder(), FakeClock()
    progress = Progress(err, live=False, clock=clock, now=wall)
    names = [f"backend foundry-{index}" for index in range(12)]
    barrier = threading.Barrier(len(names))

    def work(label: str) -> None:
        barrier.wait()
        progress(Event("start", "ensure_backends", label, "creating"))
        progress(Event("wait", "ensure_backends", label, "busy"))
        progress(Event("done", "ensure_backends", label, "created"))

    threads = [threading.Thread(target=work, args=(name,)) for name in names]
    with progress:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    lines = err.export_text().splitlines()
    assert len(lines) == 3 * len(names)
    for name in names:
        mine = [line for line in lines if re.search(rf"\b{name}\b", line)]
        assert mine == [
            f"[12:03:05] creating {name} ...",
            f"[12:03:05] {name}: busy",
            f"[12:03:05] created {name} (0.0s)",
        ]
    assert progress._running == {}


def test_live_progress_shows_every_running_operation() -> None:
    err, clock = recorder(terminal=True), FakeClock()
    progress = Progress(err, clock=clock, now=wall)
    assert progress.use_live
    with progress:
        progress(Event("start", "ensure_apim", "API Management apim-x", "creating (slow)"))
        progress(Event("start", "ensure_redis", "redis redis-x", "creating"))
        clock.now += 5
        table = Console(file=io.StringIO(), width=100, no_color=True, record=True)
        table.print(progress._render_running())
        running = table.export_text()
        assert "creating API Management apim-x (slow)" in running
        assert "creating redis redis-x" in running and "5.0s" in running
        clock.now += 718.4
        progress(Event("wait", "ensure_apim", "API Management apim-x", "busy"))
        progress(Event("done", "ensure_apim", "API Management apim-x", "created"))
        progress(Event("info", "engine", "all done", ""))
    text = err.export_text()
    assert "  created API Management apim-x (12m 03s)\n" in text
    assert "  API Management apim-x: busy\n" in text
    assert "  all done\n" in text
    assert "[12:03:05]" not in text  # timestamps are for logs, not the live view


def test_live_view_is_empty_when_nothing_runs() -> None:
    progress = Progress(recorder(terminal=True))
    table = Console(file=io.StringIO(), width=100, record=True)
    table.print(progress._render_running())
    assert table.export_text() == ""


def test_progress_outside_with_prints_plain_lines_even_on_a_terminal() -> None:
    err = recorder(terminal=True)
    progress = Progress(err, now=wall)
    progress(Event("start", "s", "redis x", "creating"))
    assert err.export_text() == "[12:03:05] creating redis x ...\n"


class Broken(Console):
    def print(self, *args: object, **kwargs: object) -> None:
        raise OSError("stderr is gone")


def test_progress_never_raises() -> None:
    progress = Progress(Broken(file=io.StringIO()), live=False)
    progress(Event("start", "s", "x", "creating"))
    progress(Event("done", "s", "x", "created"))

    def bad_now() -> datetime:
        raise ValueError("clock")

    progress = Progress(recorder(), live=False, now=bad_now)
    progress(Event("start", "s", "x", "creating"))
