"""Service commands: `triage serve` (the HTTP API), `triage worker` (queue workers), `triage keys`."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import threading
from typing import Any

logger = logging.getLogger("triage")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.api import create_app
    from service.cli import _settings

    settings = _settings()
    overrides: dict[str, Any] = {}
    if args.pack:
        overrides["pack"] = args.pack
    if args.workers is not None:
        overrides["worker_threads"] = args.workers
    settings = settings.model_copy(update=overrides)
    app = create_app(settings)
    host = args.host or settings.api_host
    port = args.port or settings.api_port
    print(f"triage: serving on http://{host}:{port} (API docs at /docs, metrics at /metrics)", flush=True)
    # The access log prints method, path and status only: never a body (tickets are personal data).
    uvicorn.run(app, host=host, port=port, log_level="info" if args.verbose else "warning", access_log=args.verbose)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from service.cli import _settings
    from service.intake import Intake
    from service.runtime import open_embedded
    from service.workers import WorkerPool

    settings = _settings()
    if "encoder_threads" not in settings.model_fields_set:
        # Worker processes run one per core: the encoder's own thread pool would only compete with the
        # other processes for the same cores (TRIAGE_ENCODER_THREADS still decides when it is set).
        settings = settings.model_copy(update={"encoder_threads": 1})
    runtime = open_embedded(settings, args.pack)
    pool = WorkerPool(Intake(runtime), threads=args.threads)
    if args.once:
        pool.drain()
        print(json.dumps(pool.queue.depth()))
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pool.start()
    print(f"triage: {args.threads} worker thread(s) on {settings.state_url.split('@')[-1]}; Ctrl-C stops",
          flush=True)
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    pool.stop()
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from service.cli import UsageError, _settings
    from service.intake import Intake
    from service.polling import handle_event, poller_for
    from service.runtime import open_embedded

    settings = _settings()
    intake = Intake(open_embedded(settings, args.pack))
    poller = poller_for(intake)
    if poller is None:
        raise UsageError(f"the {intake.runtime.helpdesk.name} helpdesk sends webhooks: nothing to poll")
    if args.once:
        report = poller.poll(lambda event: handle_event(intake, event))
        print(json.dumps({"changes": report.delivered, "cursor": report.cursor}))
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        poller.run(lambda event: handle_event(intake, event), interval_s=args.interval, stop=stop)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from service.cli import UsageError, _print, _settings
    from service.keys import ApiKeyError, ApiKeys
    from service.store import make_engine

    keys = ApiKeys(make_engine(_settings().state_url))
    try:
        if args.keys_cmd == "create":
            key = keys.create(args.name, args.role)
            print(key)
            print("triage: keep this key now: it is stored hashed and cannot be shown again", flush=True)
        elif args.keys_cmd == "revoke":
            keys.revoke(args.key_id)
            _print({"revoked": args.key_id})
        else:
            _print(keys.list())
    except ApiKeyError as exc:
        raise UsageError(str(exc)) from None
    return 0


def register(sub: Any) -> None:
    """Add this module's sub-commands to the `triage` parser."""
    from pathlib import Path

    p = sub.add_parser("serve", help="run the HTTP service (JSON API under /v1, webhooks, metrics)")
    p.add_argument("--pack", type=Path, default=None)
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="in-process worker threads for queued tickets")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run queued triage jobs (beside `serve`, on the same database)")
    p.add_argument("--pack", type=Path, default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--once", action="store_true", help="drain the queue, then exit")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("poll", help="find new and changed tickets in a helpdesk without webhooks (RT) and queue them")
    p.add_argument("--pack", type=Path, default=None)
    p.add_argument("--once", action="store_true", help="one poll, then exit")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between polls")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("keys", help="API keys of the service: create (shown once), list, revoke")
    ksub = p.add_subparsers(dest="keys_cmd", required=True)
    k = ksub.add_parser("create")
    k.add_argument("--name", required=True, help="who or what uses the key (recorded as the actor)")
    k.add_argument("--role", required=True, choices=["ingest", "reviewer", "admin"])
    ksub.add_parser("list")
    k = ksub.add_parser("revoke")
    k.add_argument("key_id")
    p.set_defaults(func=cmd_keys)
