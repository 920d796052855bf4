"""A local OpenAI-compatible test server: a real HTTP server on 127.0.0.1 that plays back scripted answers.

Tests queue what the "model" says next (a JSON answer, plain text, a refusal, an HTTP error with
Retry-After, a slow answer that outlives the client's timeout) and read back every request it received,
so they can assert what the agent sent (delimited ticket text, the canary, the candidates) and how often
it retried. An empty queue answers 500 with a message that names the missing script, so a test that
makes one call too many fails visibly instead of hanging.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Scripted:
    """One scripted answer: an HTTP status, a body (dict as JSON or raw text), headers and a delay."""

    status: int = 200
    body: dict[str, Any] | str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def _completion(message: dict[str, Any], prompt_tokens: int, completion_tokens: int,
                finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_764_000_000, "model": "test-model",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish_reason,
                     "logprobs": None}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def answer(obj: dict[str, Any], prompt_tokens: int = 120, completion_tokens: int = 30) -> Scripted:
    """The model answers with this JSON object as its message content (a structured output)."""
    return Scripted(body=_completion({"content": json.dumps(obj), "refusal": None}, prompt_tokens, completion_tokens))


def tool_call(name: str, arguments: dict[str, Any], prompt_tokens: int = 120, completion_tokens: int = 30) -> Scripted:
    """The model answers by calling a tool (how `function_calling` structured output arrives)."""
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
    return Scripted(body=_completion({"content": None, "refusal": None, "tool_calls": [call]}, prompt_tokens,
                                     completion_tokens, finish_reason="tool_calls"))


def text(content: str, prompt_tokens: int = 120, completion_tokens: int = 30) -> Scripted:
    """The model answers with free text (malformed where JSON was asked for)."""
    return Scripted(body=_completion({"content": content, "refusal": None}, prompt_tokens, completion_tokens))


def refusal(reason: str = "I can't help with that.") -> Scripted:
    """The model refuses (the chat-completions `refusal` field, content null)."""
    return Scripted(body=_completion({"content": None, "refusal": reason}, 100, 8))


def error(status: int, retry_after: float | None = None, message: str = "scripted error") -> Scripted:
    """An HTTP error in the OpenAI error shape (429 with Retry-After, 500, 503...)."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    body = {"error": {"message": message, "type": "server_error" if status >= 500 else "rate_limit_error",
                      "code": None, "param": None}}
    return Scripted(status=status, body=body, headers=headers)


def slow(seconds: float, then: Scripted | None = None) -> Scripted:
    """An answer that arrives after `seconds` (longer than the client's timeout: a timeout)."""
    base = then or answer({})
    return Scripted(status=base.status, body=base.body, headers=base.headers, delay_s=seconds)


def embeddings(vectors: list[list[float]], prompt_tokens: int = 10) -> Scripted:
    """An /v1/embeddings answer with these vectors, in order."""
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
    return Scripted(body={"object": "list", "data": data, "model": "test-embed",
                          "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}})


def first_allowed_category(request: dict[str, Any]) -> Scripted:
    """A cooperative model for long runs: picks the first category the request's schema allows."""
    schema = request["response_format"]["json_schema"]["schema"]
    allowed = schema["properties"]["category"]["enum"]
    return answer({"category": allowed[0], "confidence": 0.9, "reason": "closest match"}, 200, 20)


class FakeOpenAI:
    """The server: `queue(...)` scripted answers, `requests` holds what was received (path, JSON body)."""

    def __init__(self) -> None:
        self._script: deque[Scripted] = deque()
        self.responder: Callable[[dict[str, Any]], Scripted] | None = None
        """Answers a request when the script is empty (long runs such as an eval); None: answer 500."""
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def queue(self, *answers: Scripted) -> None:
        with self._lock:
            self._script.extend(answers)

    @property
    def pending(self) -> int:
        """Scripted answers not yet played (a test that expected them all to be used checks this)."""
        return len(self._script)

    def chat_requests(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path.endswith("/chat/completions")]

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, path: str, body: dict[str, Any]) -> Scripted:
        with self._lock:
            self.requests.append((path, body))
            if not self._script:
                if self.responder is not None:
                    return self.responder(body)
                return error(500, message=f"the test server has no scripted answer left for {path}")
            return self._script.popleft()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"unparseable": raw.decode("utf-8", "replace")}
                if not self.path.endswith(("/chat/completions", "/embeddings")):
                    reply = error(404, message=f"no such endpoint {self.path}")
                else:
                    reply = server._next(self.path, body)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = (json.dumps(reply.body) if isinstance(reply.body, dict) else reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and went away
                    pass

        return Handler
