"""A real HTTP server for API tests: uvicorn on a free loopback port, in a thread, on the embedded runtime."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from service.api import create_app
from service.keys import ApiKeys
from service.runtime import Embedded
from service.settings import Settings


@dataclass
class LiveApi:
    url: str
    runtime: Embedded
    keys: dict[str, str]
    """role -> a key of that role"""

    def client(self, role: str | None = "admin", **headers: str) -> httpx.Client:
        if role is not None:
            headers = {"Authorization": f"Bearer {self.keys[role]}", **headers}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def wait_for_run(self, run_id: str, timeout_s: float = 30) -> dict[str, Any]:
        """Poll a queued run until a worker has decided it."""
        deadline = time.monotonic() + timeout_s
        with self.client("ingest") as http:
            while time.monotonic() < deadline:
                body: dict[str, Any] = http.get(f"/v1/runs/{run_id}").json()
                if body["status"] not in ("queued", "running"):
                    return body
                time.sleep(0.05)
        raise AssertionError(f"run {run_id} not decided within {timeout_s} s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(settings: Settings, runtime: Embedded) -> Iterator[LiveApi]:
    keys = ApiKeys(runtime.db)
    made = {role: keys.create(f"test-{role}", role) for role in ("ingest", "reviewer", "admin")}
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, runtime), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield LiveApi(url=f"http://127.0.0.1:{port}", runtime=runtime, keys=made)
    finally:
        server.should_exit = True
        thread.join(15)
