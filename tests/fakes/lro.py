"""Long-running operations: Azure-AsyncOperation status resources and Location results."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakes.store import Reply

Done = Callable[[], object | None]  # runs on success; may return the Location result body
Failed = Callable[[], None]


@dataclass
class Lro:
    op_id: str
    style: str  # "async" (Azure-AsyncOperation) or "location"
    polls_left: int
    done_at: float | None  # wall-clock mode: monotonic deadline
    failure: tuple[str, str] | None
    on_done: Done
    on_failed: Failed
    status: str = "InProgress"
    result: object | None = None
    started: float = field(default_factory=time.time)

    def finish(self) -> None:
        if self.failure is None:
            self.result = self.on_done()
            self.status = "Succeeded"
        else:
            self.on_failed()
            self.status = "Failed"


class Lros:
    def __init__(self, lro_polls: int, retry_after: float) -> None:
        self.lro_polls = lro_polls
        self.retry_after = retry_after
        self.ops: dict[str, Lro] = {}

    def start(
        self,
        style: str,
        seconds: float,
        failure: tuple[str, str] | None,
        on_done: Done,
        on_failed: Failed,
    ) -> Lro:
        op = Lro(
            op_id=str(uuid.uuid4()),
            style=style,
            polls_left=self.lro_polls,
            done_at=time.monotonic() + seconds if seconds > 0 else None,
            failure=failure,
            on_done=on_done,
            on_failed=on_failed,
        )
        self.ops[op.op_id] = op
        return op

    def sweep(self) -> None:
        """Finish wall-clock operations whose time is up, whether or not anyone polls."""
        now = time.monotonic()
        for op in self.ops.values():
            if op.status == "InProgress" and op.done_at is not None and now >= op.done_at:
                op.finish()

    def _advance(self, op: Lro) -> None:
        if op.status != "InProgress" or op.done_at is not None:
            return
        if op.polls_left > 0:
            op.polls_left -= 1
        else:
            op.finish()

    def retry_header(self) -> tuple[str, str]:
        # azure-core reads "Retry-After: 0" as "use the default (30 s)": never send 0.
        return ("Retry-After", f"{max(self.retry_after, 0.001):g}")

    def poll(self, op_id: str, url: str) -> Reply | None:
        op = self.ops.get(op_id)
        if op is None:
            return None
        self._advance(op)
        if op.style == "async":
            body: dict[str, object] = {"id": url, "name": op.op_id, "status": op.status}
            if op.failure is not None and op.status == "Failed":
                body["error"] = {"code": op.failure[0], "message": op.failure[1]}
            headers = (self.retry_header(),) if op.status == "InProgress" else ()
            return Reply(200, body, headers)
        if op.status == "InProgress":
            return Reply(202, None, (("Location", url), self.retry_header()))
        if op.status == "Failed" and op.failure is not None:
            code, message = op.failure
            return Reply(400, {"error": {"code": code, "message": message}})
        return Reply(200, op.result) if op.result is not None else Reply(204)
