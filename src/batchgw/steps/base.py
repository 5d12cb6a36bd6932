"""What a step is: read (I/O) -> diff (pure) -> apply (I/O), plus the helpers they share."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from batchgw.errors import from_http_error
from batchgw.plan import Change

if TYPE_CHECKING:
    from batchgw.azure import AzureClients
    from batchgw.model import Desired

T = TypeVar("T")
Known = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Event:
    """Progress for the CLI: a step started or finished one resource operation."""

    kind: str  # "start" | "done" | "wait" | "info"
    step: str
    label: str
    detail: str = ""


Reporter = Callable[[Event], None]


def ignore_event(event: Event) -> None:
    """The default reporter: progress goes nowhere."""


@dataclass(frozen=True)
class Ctx:
    clients: AzureClients
    desired: Desired
    arm_endpoint: str
    report: Reporter = ignore_event
    sleep: Callable[[float], None] = time.sleep
    # How long to keep retrying APIM's 409 "busy" and a fresh principal's PrincipalNotFound.
    busy_timeout: float = 1800.0
    principal_timeout: float = 600.0


class Step(Protocol):
    name: str
    needs: tuple[str, ...]
    reads: str  # steps with the same `reads` share one observation in a plan

    def read(self, ctx: Ctx, known: Known) -> object: ...

    def diff(self, desired: Desired, observed: object, known: Known) -> list[Change]: ...

    def apply(self, ctx: Ctx, observed: object, known: Known) -> dict[str, object]: ...

    def outputs(self, observed: object) -> dict[str, object]: ...


def not_found(exc: BaseException) -> bool:
    from azure.core.exceptions import ResourceNotFoundError

    return isinstance(exc, ResourceNotFoundError) or getattr(exc, "status_code", None) == 404


def get_or_none(call: Callable[[], T]) -> T | None:
    from azure.core.exceptions import HttpResponseError

    try:
        return call()
    except HttpResponseError as exc:
        if not_found(exc):
            return None
        raise


def arm_code(exc: BaseException) -> str:
    error = getattr(exc, "error", None)
    return str(getattr(error, "code", "") or "")


def guarded(step: str, resource_id: str, action: str, call: Callable[[], T]) -> T:
    """Run one Azure call; an HTTP error becomes an AzureCallError naming the resource."""
    from azure.core.exceptions import HttpResponseError

    try:
        return call()
    except HttpResponseError as exc:
        raise from_http_error(exc, step=step, resource_id=resource_id, action=action) from exc


BUSY_CODES = {
    "Conflict",
    "ServiceLocked",
    "ConcurrentUpdate",
    "OperationInProgress",
    "PessimisticConcurrencyConflict",
}


def retry_while(
    ctx: Ctx,
    step: str,
    label: str,
    call: Callable[[], T],
    *,
    transient: Callable[[BaseException], bool],
    detail: str,
    timeout: float,
    max_delay: float,
) -> T:
    """Call again, backing off through the injected sleeper, while Azure answers `transient`."""
    from azure.core.exceptions import HttpResponseError

    delay, waited = 5.0, 0.0
    while True:
        try:
            return call()
        except HttpResponseError as exc:
            if not transient(exc) or waited >= timeout:
                raise
            ctx.report(Event("wait", step, label, detail))
            ctx.sleep(delay)
            waited += delay
            delay = min(delay * 2, max_delay)


def _busy(exc: BaseException) -> bool:
    code = arm_code(exc)
    return getattr(exc, "status_code", None) == 409 and (code in BUSY_CODES or not code)


def retry_busy(ctx: Ctx, step: str, label: str, call: Callable[[], T]) -> T:
    """APIM answers 409 while the service is activating or updating; wait until it settles."""
    return retry_while(
        ctx,
        step,
        label,
        call,
        transient=_busy,
        detail="API Management is busy, retrying",
        timeout=ctx.busy_timeout,
        max_delay=60.0,
    )


def write(ctx: Ctx, step: str, resource_id: str, verb: str, call: Callable[[], T]) -> T:
    """One write to an APIM child: retried while the service is busy, errors made readable."""
    return guarded(step, resource_id, verb, lambda: retry_busy(ctx, step, resource_id, call))


SETTLED = {"succeeded", "failed", "canceled"}


def settle(ctx: Ctx, step: str, label: str, read_state: Callable[[], str]) -> str:
    """Wait for a resource that an earlier, interrupted run left mid-operation.

    Its own long-running operation has no poller any more, so its provisioning state is polled
    (gently, with the injected sleeper) until it stops changing, or the wait gives up.
    """
    delay, waited = 1.0, 0.0
    state = read_state()
    while state.lower() not in SETTLED and waited < ctx.busy_timeout:
        ctx.report(Event("wait", step, label, f"{state}: waiting for it to finish"))
        ctx.sleep(delay)
        waited += delay
        delay = min(delay * 2, 30.0)
        state = read_state()
    return state
