"""Fake regional Azure OpenAI servers speaking the v1 surface, with Azure's ownership rule.

Files, batches (and their output files) and stored responses belong to the region that created
them; any other region answers 404 "not found due to ownership verification failure" and the
`World` records the hit. Each region checks that requests carry the gateway's managed-identity
token and never a client credential, records every request, and can be told to throttle or fail.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ORIGIN_HEADER = "x-simulator-origin"  # set by the simulator's HTTP client: forward or probe
_KINDS = {"files": "file", "batches": "batch", "responses": "response"}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    region: str
    method: str
    path: str
    origin: str  # "forward-request" | "send-request" | "direct"
    object_id: str
    owner: str  # "" when the id is unknown everywhere
    status: int

    @property
    def foreign(self) -> bool:
        """The request named an object that lives in another region."""
        return bool(self.owner) and self.owner != self.region


@dataclass
class Fault:
    status: int  # 429 or 503
    retry_after: int = 1
    until: float = 0.0  # monotonic deadline; 0 = until cleared
    remaining: int = -1  # requests still affected; -1 = no count limit

    def active(self) -> bool:
        if self.until and time.monotonic() >= self.until:
            return False
        return self.remaining != 0


@dataclass
class World:
    """State shared by all fake regions: who owns which id, and every request seen."""

    token: str
    owners: dict[str, str] = field(default_factory=dict)
    records: list[RequestRecord] = field(default_factory=list)
    auth_failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def owner(self, object_id: str) -> str:
        with self.lock:
            return self.owners.get(object_id, "")

    def claim(self, object_id: str, region: str) -> None:
        with self.lock:
            self.owners[object_id] = region

    def record(self, rec: RequestRecord) -> None:
        with self.lock:
            self.records.append(rec)


@dataclass
class _Batch:
    data: dict[str, object]
    polls: int = 0


class _Server(ThreadingHTTPServer):
    request_queue_size = 256


class Region:
    """One fake foundry account, served on 127.0.0.1."""

    def __init__(self, name: str, world: World) -> None:
        self.name = name
        self.world = world
        self.files: dict[str, tuple[dict[str, object], bytes]] = {}
        self.batches: dict[str, _Batch] = {}
        self.responses: dict[str, tuple[dict[str, object], list[object]]] = {}
        self.fault: Fault | None = None
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _make_handler(self))
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name=f"region-{name}"
        )

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def throttle(self, seconds: float, retry_after: int = 1) -> None:
        self.fault = Fault(429, retry_after, until=time.monotonic() + seconds)

    def fail(self, seconds: float) -> None:
        self.fault = Fault(503, 1, until=time.monotonic() + seconds)

    def clear_fault(self) -> None:
        self.fault = None

    def take_fault(self) -> Fault | None:
        with self.lock:
            fault = self.fault
            if fault is None or not fault.active():
                return None
            if fault.remaining > 0:
                fault.remaining -= 1
            return fault

    def new_id(self, prefix: str) -> str:
        object_id = prefix + secrets.token_hex(12)
        self.world.claim(object_id, self.name)
        return object_id

    # ------------------------------------------------------------ operations

    def create_file(self, filename: str, purpose: str, content: bytes) -> dict[str, object]:
        file_id = self.new_id("file-")
        meta: dict[str, object] = {
            "id": file_id,
            "object": "file",
            "bytes": len(content),
            "created_at": _now(),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        with self.lock:
            self.files[file_id] = (meta, content)
        return meta

    def create_batch(self, body: dict[str, object]) -> dict[str, object]:
        batch_id = self.new_id("batch_")
        data: dict[str, object] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint", "/chat/completions"),
            "errors": None,
            "input_file_id": body["input_file_id"],
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "output_file_id": None,
            "error_file_id": None,
            "created_at": _now(),
            "in_progress_at": None,
            "completed_at": None,
            "cancelled_at": None,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": None,
        }
        with self.lock:
            self.batches[batch_id] = _Batch(data)
        return data

    def poll_batch(self, batch_id: str) -> dict[str, object]:
        with self.lock:
            batch = self.batches[batch_id]
            batch.polls += 1
            data = batch.data
            status = data["status"]
            if status == "validating":
                data["status"], data["in_progress_at"] = "in_progress", _now()
            elif status == "in_progress":
                self._complete(data)
            elif status == "cancelling":
                data["status"], data["cancelled_at"] = "cancelled", _now()
            return dict(data)

    def _complete(self, data: dict[str, object]) -> None:
        _, content = self.files[str(data["input_file_id"])]
        ok: list[str] = []
        bad: list[str] = []
        for line in content.decode().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            custom_id = str(item.get("custom_id", ""))
            if custom_id.startswith("err-"):
                bad.append(
                    json.dumps(
                        {
                            "custom_id": custom_id,
                            "error": {"code": "bad_request", "message": "rejected"},
                        }
                    )
                )
            else:
                ok.append(
                    json.dumps(
                        {
                            "custom_id": custom_id,
                            "response": {
                                "status_code": 200,
                                "body": {"region": self.name, "echo": item.get("body")},
                            },
                        }
                    )
                )
        for key, lines in (("output_file_id", ok), ("error_file_id", bad)):
            if lines:
                file_id = self.new_id("file-")
                payload = ("\n".join(lines) + "\n").encode()
                self.files[file_id] = (
                    {
                        "id": file_id,
                        "object": "file",
                        "bytes": len(payload),
                        "created_at": _now(),
                        "filename": f"{key}.jsonl",
                        "purpose": "batch_output",
                        "status": "processed",
                    },
                    payload,
                )
                data[key] = file_id
        data["status"], data["completed_at"] = "completed", _now()
        data["request_counts"] = {
            "total": len(ok) + len(bad),
            "completed": len(ok),
            "failed": len(bad),
        }

    def create_response(self, body: dict[str, object]) -> dict[str, object]:
        response_id = self.new_id("resp_")
        text = f"answer from {self.name}"
        data: dict[str, object] = {
            "id": response_id,
            "object": "response",
            "created_at": _now(),
            "status": "completed",
            "model": body.get("model", "gpt-4o"),
            "previous_response_id": body.get("previous_response_id"),
            "output": [
                {
                    "type": "message",
                    "id": "msg_" + secrets.token_hex(8),
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            ],
            "usage": {
                "input_tokens": 3,
                "output_tokens": 4,
                "total_tokens": 7,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "metadata": {},
            "temperature": 1.0,
            "top_p": 1.0,
            "text": {"format": {"type": "text"}},
            "error": None,
            "incomplete_details": None,
            "instructions": None,
        }
        raw_input = body.get("input", "")
        items: list[object] = (
            raw_input
            if isinstance(raw_input, list)
            else [
                {
                    "type": "message",
                    "role": "user",
                    "id": "msg_" + secrets.token_hex(8),
                    "content": [{"type": "input_text", "text": str(raw_input)}],
                }
            ]
        )
        with self.lock:
            self.responses[response_id] = (data, items)
        return data


def _now() -> int:
    return int(time.time())


def _error(code: str, message: str, param: str | None = None) -> dict[str, object]:
    return {
        "error": {"code": code, "message": message, "param": param, "type": "invalid_request_error"}
    }


def _make_handler(region: Region) -> type[BaseHTTPRequestHandler]:
    class Handler(_RegionHandler):
        pass

    Handler.region = region
    return Handler


class _RegionHandler(BaseHTTPRequestHandler):
    region: Region
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the World keeps the record

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        content_type = (
            "application/octet-stream" if isinstance(payload, bytes) else ("application/json")
        )
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self._status = status

    def _handle(self) -> None:
        self._status = 0
        body = self._body()
        path, _, _query = self.path.partition("?")
        origin = self.headers.get(ORIGIN_HEADER, "direct")
        object_id = _object_id(self.command, path, body)
        owner = self.region.world.owner(object_id) if object_id else ""
        try:
            self._dispatch(path, body, object_id, owner)
        finally:
            self.region.world.record(
                RequestRecord(
                    self.region.name, self.command, path, origin, object_id, owner, self._status
                )
            )

    def _check_auth(self) -> bool:
        world = self.region.world
        problem = ""
        if self.headers.get("api-key") is not None:
            problem = "client api-key header reached the region"
        elif self.headers.get("Authorization") != f"Bearer {world.token}":
            problem = "request without the gateway's managed-identity token"
        if problem:
            with world.lock:
                world.auth_failures.append(
                    f"{self.region.name} {self.command} {self.path}: {problem}"
                )
            self._send(401, _error("401", "Access denied: " + problem))
            return False
        return True

    def _dispatch(self, path: str, body: bytes, object_id: str, owner: str) -> None:
        if not path.startswith("/openai/v1/"):
            self._send(404, _error("404", "Resource not found"))
            return
        if not self._check_auth():
            return
        fault = self.region.take_fault()
        if fault is not None:
            headers = (
                {
                    "Retry-After": str(fault.retry_after),
                    "retry-after-ms": str(fault.retry_after * 1000),
                }
                if fault.status == 429
                else {}
            )
            code = "429" if fault.status == 429 else "ServiceUnavailable"
            self._send(fault.status, _error(code, "simulated fault"), headers)
            return
        if object_id and owner != self.region.name:
            self._not_owned(path, object_id, owner)
            return
        parts = path[len("/openai/v1/") :].strip("/").split("/")
        route = (self.command, parts[0], len(parts))
        handler = _ROUTES.get(route)
        if handler is None:
            self._send(404, _error("404", f"no route for {self.command} {path}"))
            return
        handler(self, parts, body)

    def _not_owned(self, path: str, object_id: str, owner: str) -> None:
        kind = (
            "previous response"
            if self.command == "POST" and path.endswith("/responses")
            else ("object")
        )
        if owner:
            message = f"{kind} '{object_id}' not found due to ownership verification failure."
        else:
            message = f"No such {kind}: '{object_id}'"
        if kind == "previous response":
            self._send(400, _error("previous_response_not_found", message, "previous_response_id"))
        else:
            self._send(404, _error("404", message))

    # ------------------------------------------------------------ routes

    def _files_create(self, parts: list[str], body: bytes) -> None:
        ctype = self.headers.get("Content-Type", "")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
        )
        fields: dict[str, tuple[str, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = (
                str(part.get_filename() or ""),
                payload if isinstance(payload, bytes) else b"",
            )
        if "file" not in fields:
            self._send(400, _error("invalid_request", "multipart field `file` is required", "file"))
            return
        purpose = fields.get("purpose", ("", b"batch"))[1].decode()
        self._send(
            200,
            self.region.create_file(
                fields["file"][0] or "upload.jsonl", purpose, fields["file"][1]
            ),
        )

    def _files_list(self, parts: list[str], body: bytes) -> None:
        with self.region.lock:
            data = sorted(
                (m for m, _ in self.region.files.values()),
                key=lambda m: (int(str(m["created_at"])), str(m["id"])),
                reverse=True,
            )
        self._send(200, {"object": "list", "data": data, "has_more": False})

    def _file_get(self, parts: list[str], body: bytes) -> None:
        self._send(200, self.region.files[parts[1]][0])

    def _file_delete(self, parts: list[str], body: bytes) -> None:
        with self.region.lock:
            self.region.files.pop(parts[1], None)
        self._send(200, {"id": parts[1], "object": "file", "deleted": True})

    def _file_content(self, parts: list[str], body: bytes) -> None:
        if parts[2] != "content":
            self._send(404, _error("404", "Resource not found"))
            return
        self._send(200, self.region.files[parts[1]][1])

    def _batches_create(self, parts: list[str], body: bytes) -> None:
        request = json.loads(body or b"{}")
        if not isinstance(request, dict) or not request.get("input_file_id"):
            self._send(400, _error("invalid_request", "input_file_id is required", "input_file_id"))
            return
        self._send(200, self.region.create_batch(request))

    def _batches_list(self, parts: list[str], body: bytes) -> None:
        with self.region.lock:
            data = [dict(b.data) for b in self.region.batches.values()]
        data.sort(key=lambda b: (int(str(b["created_at"])), str(b["id"])), reverse=True)
        self._send(
            200,
            {
                "object": "list",
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    def _batch_get(self, parts: list[str], body: bytes) -> None:
        self._send(200, self.region.poll_batch(parts[1]))

    def _batch_cancel(self, parts: list[str], body: bytes) -> None:
        if parts[2] != "cancel":
            self._send(404, _error("404", "Resource not found"))
            return
        with self.region.lock:
            data = self.region.batches[parts[1]].data
            if data["status"] in ("validating", "in_progress"):
                data["status"] = "cancelling"
            snapshot = dict(data)
        self._send(200, snapshot)

    def _responses_create(self, parts: list[str], body: bytes) -> None:
        request = json.loads(body or b"{}")
        data = self.region.create_response(request)
        if request.get("stream"):
            self._stream(data)
        else:
            self._send(200, data)

    def _stream(self, data: dict[str, object]) -> None:
        output = data["output"]
        assert isinstance(output, list)
        item = output[0]
        text = item["content"][0]["text"]
        pending = dict(data, status="in_progress", output=[])
        events: list[dict[str, object]] = [
            {"type": "response.created", "response": pending},
            {"type": "response.in_progress", "response": pending},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": dict(item, status="in_progress", content=[]),
            },
            {
                "type": "response.content_part.added",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []},
            },
            *(
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": word,
                    "logprobs": [],
                }
                for word in re.findall(r"\S+\s*", text)
            ),
            {
                "type": "response.output_text.done",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "text": text,
                "logprobs": [],
            },
            {
                "type": "response.content_part.done",
                "item_id": item["id"],
                "output_index": 0,
                "content_index": 0,
                "part": item["content"][0],
            },
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {"type": "response.completed", "response": data},
        ]
        chunks = b"".join(
            f"event: {e['type']}\ndata: {json.dumps(dict(e, sequence_number=i))}\n\n".encode()
            for i, e in enumerate(events)
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(chunks)))
        self.end_headers()
        self.wfile.write(chunks)
        self._status = 200

    def _response_get(self, parts: list[str], body: bytes) -> None:
        self._send(200, self.region.responses[parts[1]][0])

    def _response_delete(self, parts: list[str], body: bytes) -> None:
        with self.region.lock:
            self.region.responses.pop(parts[1], None)
        self._send(200, {"id": parts[1], "object": "response", "deleted": True})

    def _response_sub(self, parts: list[str], body: bytes) -> None:
        data, items = self.region.responses[parts[1]]
        if self.command == "POST" and parts[2] == "cancel":
            self._send(200, data)
        elif self.command == "GET" and parts[2] == "input_items":
            self._send(
                200,
                {
                    "object": "list",
                    "data": items,
                    "has_more": False,
                    "first_id": None,
                    "last_id": None,
                },
            )
        else:
            self._send(404, _error("404", "Resource not found"))

    def _chat(self, parts: list[str], body: bytes) -> None:
        request = json.loads(body or b"{}")
        self._send(
            200,
            {
                "id": "chatcmpl-" + secrets.token_hex(8),
                "object": "chat.completion",
                "created": _now(),
                "model": request.get("model", "gpt-4o"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": f"hello from {self.region.name}",
                        },
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4},
            },
        )

    def _embeddings(self, parts: list[str], body: bytes) -> None:
        request = json.loads(body or b"{}")
        self._send(
            200,
            {
                "object": "list",
                "model": request.get("model", "text-embedding"),
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                "usage": {"prompt_tokens": 1, "total_tokens": 1},
            },
        )


def _object_id(method: str, path: str, body: bytes) -> str:
    """The id whose owner must serve this request ("" when none)."""
    parts = path.removeprefix("/openai/v1/").strip("/").split("/")
    if len(parts) >= 2 and parts[0] in _KINDS:
        return parts[1]
    if method == "POST" and len(parts) == 1 and parts[0] in ("batches", "responses"):
        try:
            request = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return ""
        if isinstance(request, dict):
            key = "input_file_id" if parts[0] == "batches" else "previous_response_id"
            value = request.get(key)
            return value if isinstance(value, str) else ""
    return ""


_Route = tuple[str, str, int]
_ROUTES: dict[_Route, Callable[[_RegionHandler, list[str], bytes], None]] = {
    ("POST", "files", 1): _RegionHandler._files_create,
    ("GET", "files", 1): _RegionHandler._files_list,
    ("GET", "files", 2): _RegionHandler._file_get,
    ("DELETE", "files", 2): _RegionHandler._file_delete,
    ("GET", "files", 3): _RegionHandler._file_content,
    ("POST", "batches", 1): _RegionHandler._batches_create,
    ("GET", "batches", 1): _RegionHandler._batches_list,
    ("GET", "batches", 2): _RegionHandler._batch_get,
    ("POST", "batches", 3): _RegionHandler._batch_cancel,
    ("POST", "responses", 1): _RegionHandler._responses_create,
    ("GET", "responses", 2): _RegionHandler._response_get,
    ("DELETE", "responses", 2): _RegionHandler._response_delete,
    ("POST", "responses", 3): _RegionHandler._response_sub,
    ("GET", "responses", 3): _RegionHandler._response_sub,
    ("POST", "chat", 2): _RegionHandler._chat,
    ("POST", "embeddings", 1): _RegionHandler._embeddings,
}
