"""`make run`: the service on the default pack (embedded SQLite): train if needed, start the API, send
the pack's sample tickets through it, print the decisions and where to review them, keep serving.

Demo API keys (an ingest, a reviewer and an admin key) are made once and kept in TRIAGE_HOME/demo-keys.json
so the printed curl commands keep working across restarts. `--exit` stops after the samples (for scripts).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from agent.models.bundle import NotTrainedError
from agent.pack import PackError
from service.api import create_app
from service.cli import _settings
from service.demo import _stale, _train
from service.keys import ApiKeys
from service.runtime import Embedded, open_embedded
from service.settings import Settings


def demo_keys(settings: Settings, runtime: Embedded) -> dict[str, str]:
    path = settings.home / "demo-keys.json"
    keys = ApiKeys(runtime.db)
    if path.exists():
        saved: dict[str, str] = json.loads(path.read_text())
        if all(keys.authenticate(k) for k in saved.values()):
            return saved
    made = {role: keys.create(f"demo-{role}", role) for role in ("ingest", "reviewer", "admin")}
    path.write_text(json.dumps(made, indent=2))
    path.chmod(0o600)
    return made


def _line(result: dict[str, Any], text: str) -> str:
    excerpt = textwrap.shorten(" ".join(text.split()), 80)
    if "handled" in result:
        return f"  {excerpt}\n    -> {result['handled']} ({result['reason']})"
    category = (f"{result['category']} ({result['confidence']:.2f})" if result["category"]
                else f"out of scope ({result['oos_score']:.2f})")
    return (f"  ticket {result['ticket_id']}: {excerpt}\n"
            f"    -> {result['decision']:<10} {category}, priority {result['priority']}, queue {result['queue']}; "
            f"{', '.join(result['reasons'])}; cites {', '.join(result['citations']) or '-'}; {result['status']}")


def send_samples(base: str, keys: dict[str, str], pack_dir: Path, keys_file: Path) -> None:
    samples = [json.loads(line) for line in (pack_dir / "samples.jsonl").read_text().splitlines() if line.strip()]
    print(f"\nSending {len(samples)} sample tickets to {base}/v1/tickets:\n", flush=True)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['ingest']}"}, timeout=60) as http:
        for sample in samples:
            response = http.post("/v1/tickets", json={"text": sample["text"], "subject": sample.get("subject", ""),
                                                      "channel": "demo"})
            print(_line(response.json(), sample["text"]), flush=True)
    print(textwrap.dedent(f"""
        Waiting for a reviewer:
          curl -s -H 'Authorization: Bearer {keys['reviewer']}' {base}/v1/reviews
        Approve one (digest from the list):
          curl -s -H 'Authorization: Bearer {keys['reviewer']}' -H 'Content-Type: application/json' \\
               -d '{{"verdict": "approve", "digest": "..."}}' {base}/v1/reviews/RUN_ID
        Switch the agent off (admin):
          curl -s -X PUT -H 'Authorization: Bearer {keys['admin']}' -H 'Content-Type: application/json' \\
               -d '{{"mode": "off", "reason": "demo"}}' {base}/v1/control
        API docs {base}/docs   metrics {base}/metrics   keys in {keys_file}
        (or on the command line: .venv/bin/triage review list)
        """), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=Path("packs/saas_support"))
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--exit", action="store_true", help="stop after the sample tickets")
    args = parser.parse_args()
    try:
        if _stale(args.pack):
            _train(args.pack)
        settings = _settings().model_copy(update={"pack": args.pack})
        try:
            runtime = open_embedded(settings, args.pack)
        except NotTrainedError:
            _train(args.pack)
            runtime = open_embedded(settings, args.pack)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    keys = demo_keys(settings, runtime)
    port = args.port or settings.api_port
    server = uvicorn.Server(uvicorn.Config(create_app(settings, runtime), host=settings.api_host, port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            print(f"error: could not serve on {settings.api_host}:{port} (in use? set TRIAGE_API_PORT)",
                  file=sys.stderr)
            return 1
        time.sleep(0.05)
    base = f"http://{settings.api_host}:{port}"
    print(f"Serving pack '{runtime.pack.name}' on {base} (state in {settings.home}/, mode {runtime.control.mode()})")
    send_samples(base, keys, args.pack, settings.home / "demo-keys.json")
    if args.exit:
        server.should_exit = True
        thread.join(10)
        return 0
    print("Serving until Ctrl-C.", flush=True)
    try:
        while thread.is_alive():
            thread.join(1.0)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
