"""The only module that writes to the terminal: consoles, errors, confirmation, deploy progress."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from batchgw.errors import BatchgwError, ConfigError
from batchgw.steps.base import Event

REFRESH_PER_SECOND = 5


def no_color_requested(environ: Mapping[str, str] | None = None) -> bool:
    # https://no-color.org: set and non-empty means no colour, whatever the value.
    return bool((os.environ if environ is None else environ).get("NO_COLOR"))


def make_consoles(*, json_mode: bool = False) -> tuple[Console, Console]:
    """stdout for what was asked for, stderr for progress and errors.

    rich turns colour off by itself when a stream is not a terminal; soft_wrap keeps long URLs
    and ids on one line so they can be copied. In JSON mode stdout carries bare JSON: no colour,
    no markup, no highlighting, whatever the terminal.
    """
    no_color = no_color_requested()
    if json_mode:
        out = Console(
            color_system=None,
            no_color=True,
            soft_wrap=True,
            highlight=False,
            markup=False,
            emoji=False,
        )
    else:
        out = Console(no_color=no_color, soft_wrap=True, highlight=False, emoji=False)
    err = Console(stderr=True, no_color=no_color, soft_wrap=True, highlight=False, emoji=False)
    return out, err


def print_json(out: Console, data: Mapping[str, object]) -> None:
    """Contract JSON on stdout, exactly as json.dumps wrote it (no rich wrapping or markup)."""
    out.print(Text(json.dumps(data, indent=2, ensure_ascii=False)), soft_wrap=True)


def print_error(err: Console, error: BatchgwError) -> None:
    line = Text("Error: ", style="bold red")
    line.append(error.message, style="red")
    err.print(line, soft_wrap=True)
    if isinstance(error, ConfigError):
        for detail in error.details:
            err.print(Text(f"  {detail}"), soft_wrap=True)
    if error.hint:
        err.print(Text(f"  -> {error.hint}"), soft_wrap=True)


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except (ValueError, OSError):  # a closed or detached stream
        return False


def is_interactive() -> bool:
    return _isatty(sys.stdin) and _isatty(sys.stderr)


def confirm(err: Console, question: str) -> bool:
    err.print(Text(f"{question} [y/N] "), end="")
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    if not answer:  # EOF: nobody is there to say yes
        err.print()
        return False
    return answer.strip().lower() in ("y", "yes")


# --- progress -----------------------------------------------------------------------------------


def format_elapsed(seconds: float) -> str:
    if seconds < 59.95:  # 59.96 would round to "60.0s"
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


def describe(label: str, detail: str) -> str:
    """`creating (Developer tier ...)` + `API Management x` -> `creating API Management x (...)`."""
    verb, _, rest = detail.partition(" ")
    return " ".join(part for part in (verb, label, rest) if part)


@dataclass(frozen=True, slots=True)
class Running:
    text: str
    started: float
    spinner: Spinner = field(default_factory=lambda: Spinner("dots", style="cyan"))


class Progress:
    """Engine reporter for stderr; safe to call from the engine's worker threads.

    On a terminal, inside `with`, every operation in flight has a spinner and a running clock
    (rich Live), and each one leaves a permanent line when it finishes. Elsewhere (CI, pipes,
    or outside `with`) each start and finish is one timestamped plain line.
    Lock order: the Live refresh thread holds Live's lock and then takes ours, so nothing is ever
    printed while our lock is held.
    """

    def __init__(
        self,
        err: Console,
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.err = err
        self.use_live = err.is_terminal if live is None else live
        self.clock = clock
        self.now = now
        self._lock = threading.Lock()
        # Workers report at the same moment; rich's Live redraws its region around each print,
        # and two threads printing at once can lose a line under the redraw. One at a time.
        self._print_lock = threading.Lock()
        self._running: dict[tuple[str, str], Running] = {}
        self._live: Live | None = None

    def __enter__(self) -> Progress:
        if self.use_live:
            self._live = Live(
                console=self.err,
                get_renderable=self._render_running,
                refresh_per_second=REFRESH_PER_SECOND,
                transient=True,
                redirect_stdout=False,  # stdout carries the plan; never mix progress into it
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.stop()

    def __call__(self, event: Event) -> None:
        try:
            live = self._live
            line = self._update(event, plain=live is None)
            with self._print_lock:
                if live is not None:
                    live.refresh()  # show the running operations now, not at the next tick
                if line is not None:
                    self.err.print(line, soft_wrap=True)
        except Exception:  # progress is cosmetic; it must never break a deploy
            pass

    def _update(self, event: Event, *, plain: bool) -> Text | None:
        key = (event.step, event.label)
        stamp = f"[{self.now():%H:%M:%S}] " if plain else ""
        with self._lock:
            if event.kind == "start":
                text = describe(event.label, event.detail)
                self._running[key] = Running(text, self.clock())
                return Text(f"{stamp}{text} ...") if plain else None
            if event.kind == "done":
                running = self._running.pop(key, None)
                took = None if running is None else self.clock() - running.started
                elapsed = "" if took is None else f" ({format_elapsed(took)})"
                text = describe(event.label, event.detail or "done")
                if plain:
                    return Text(f"{stamp}{text}{elapsed}")
                line = Text("  ")
                line.append(text, style="green")
                line.append(elapsed, style="dim")
                return line
        message = ": ".join(part for part in (event.label, event.detail) if part)
        if event.kind == "wait":
            return Text(f"{stamp}{message}") if plain else Text(f"  {message}", style="dim")
        return Text(f"{stamp}{message}") if plain else Text(f"  {message}")

    def _render_running(self) -> RenderableType:
        with self._lock:
            running = list(self._running.values())
            now = self.clock()
        if not running:
            return Group()
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column()
        grid.add_column(style="dim", no_wrap=True)
        for op in running:
            grid.add_row(op.spinner, Text(op.text), format_elapsed(now - op.started))
        return grid
