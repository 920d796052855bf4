"""`make bench-service`: the service under load on loopback, measured, never asserted.

Starts `triage serve` (API only, no in-process workers) on a fresh TRIAGE_HOME, then:
1. acknowledgement: N tickets from the pack's eval mix posted with `?mode=queued` by C concurrent
   clients: tickets/s acknowledged and latency p50/p95/p99; every response must be 202;
2. full triage: W `triage worker` processes drain the queue: tickets/s decided, from the first claim to
   the last decision;
3. sustained: with the workers running, N more tickets arrive at a steady R tickets/s (`--rate`) while
   they are triaged, the load generator and the API competing with the workers for the cores (the steady
   state of a deployment): tickets/s from the first post to the last decision, the backlog when the last
   ticket arrives, how long after it the last decision came, and the ack latency meanwhile. The service
   sustains R when the backlog stays small and the last decision follows the last arrival closely;
4. lost: every acknowledged run must end decided (none queued, failed or missing).
The load generator runs on the same 2 cores: its cost is inside the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import func
from sqlmodel import Session, select

from service.keys import ApiKeys
from service.store import JobRecord, RunRecord, make_engine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _texts(pack: Path) -> list[str]:
    return [json.loads(line)["text"] for line in (pack / "eval.jsonl").read_text().splitlines() if line.strip()]


async def _post_all(base: str, key: str, texts: list[str], n: int, concurrency: int,
                    rate: float | None = None) -> tuple[list[float], list[int]]:
    """Post n tickets with `concurrency` clients, as fast as they go or, with `rate`, ticket i at i / rate s."""
    latencies: list[float] = []
    codes: list[int] = []
    counter = iter(range(n))
    began = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 limits=limits) as http:
        async def client() -> None:
            for i in counter:
                if rate is not None:
                    await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
                start = time.perf_counter()
                response = await http.post("/v1/tickets?mode=queued", json={"text": texts[i % len(texts)]})
                latencies.append((time.perf_counter() - start) * 1000)
                codes.append(response.status_code)
        await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies, codes


def _decided(db: Any) -> tuple[int, int]:
    """Jobs finished (done or failed) and jobs ever claimed."""
    with Session(db) as session:
        done = session.exec(select(func.count()).select_from(JobRecord).where(
            JobRecord.status.in_(["done", "failed"]))).one()  # type: ignore[attr-defined]
        started = session.exec(select(func.count()).select_from(JobRecord).where(
            JobRecord.status != "queued")).one()
    return int(done), int(started)


def _wait_until_decided(db: Any, total: int, start: float) -> float | None:
    """Poll until `total` jobs are finished; the time of the first claim seen (None if none was seen)."""
    first_claim: float | None = None
    last_report = 0.0
    while True:
        done, started = _decided(db)
        if first_claim is None and started:
            first_claim = time.perf_counter()
        if done >= total:
            return first_claim
        if time.perf_counter() - last_report >= 5:
            print(f"  {done}/{total} decided", file=sys.stderr)
            last_report = time.perf_counter()
        time.sleep(0.2)


def _latency(latencies: list[float], codes: list[int], n: int, elapsed: float) -> dict[str, Any]:
    lat = np.array(latencies)
    return {"tickets": n, "per_s": round(n / elapsed, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 1), "p95_ms": round(float(np.percentile(lat, 95)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1), "non_202": sum(c != 202 for c in codes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=Path, default=Path("packs/saas_support"))
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="`triage worker` processes for phases 2 and 3")
    parser.add_argument("--rate", type=float, default=80.0, help="arrivals per second in phase 3")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp home)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="triage-load-"))
    env = {**os.environ, "TRIAGE_HOME": str(home), "TRIAGE_PACK": str(args.pack),
           "TRIAGE_RATE_LIMIT_PER_MINUTE": "0", "TRIAGE_WORKER_THREADS": "0"}
    if args.database_url:
        env["TRIAGE_DATABASE_URL"] = args.database_url
    db = make_engine(args.database_url or f"sqlite:///{home / 'triage.db'}")
    key = ApiKeys(db).create("load-generator", "ingest")
    port = _free_port()
    triage = str(Path(sys.executable).parent / "triage")
    server = subprocess.Popen([triage, "serve", "--port", str(port), "--workers", "0"], env=env)
    base = f"http://127.0.0.1:{port}"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        texts = _texts(args.pack)
        asyncio.run(_post_all(base, key, texts, 50, 4))  # warm-up (not counted)
        print(f"phase 1: {args.tickets} queued tickets, {args.concurrency} concurrent clients", file=sys.stderr)
        start = time.perf_counter()
        latencies, codes = asyncio.run(_post_all(base, key, texts, args.tickets, args.concurrency))
        ack = _latency(latencies, codes, args.tickets, time.perf_counter() - start)
        print(f"phase 2: {args.workers} worker processes drain the queue", file=sys.stderr)
        total = args.tickets + 50
        start = time.perf_counter()
        workers = [subprocess.Popen([triage, "worker", "--threads", "1"], env=env, stdout=subprocess.DEVNULL)
                   for _ in range(args.workers)]
        first_claim = _wait_until_decided(db, total, start)
        drain_s = time.perf_counter() - (first_claim or start)
        print(f"phase 3: {args.tickets} more tickets arriving at {args.rate:g}/s while the workers triage",
              file=sys.stderr)
        start = time.perf_counter()
        latencies, codes = asyncio.run(_post_all(base, key, texts, args.tickets, args.concurrency, args.rate))
        arrived_s = time.perf_counter() - start
        during = _latency(latencies, codes, args.tickets, arrived_s)
        backlog = total + args.tickets - _decided(db)[0]
        _wait_until_decided(db, total + args.tickets, start)
        sustained_s = time.perf_counter() - start
        with Session(db) as session:
            undecided = session.exec(select(func.count()).select_from(RunRecord).where(
                RunRecord.decision.is_(None))).one()  # type: ignore[union-attr]
            failed = session.exec(select(func.count()).select_from(JobRecord).where(JobRecord.status == "failed")).one()
        result: dict[str, Any] = {
            "acknowledge": ack,
            "triage": {"workers": args.workers, "tickets": total, "per_s": round(total / drain_s, 1),
                       "seconds": round(drain_s, 1)},
            "sustained": {"workers": args.workers, "tickets": args.tickets, "arrival_rate": args.rate,
                          "per_s": round(args.tickets / sustained_s, 1), "seconds": round(sustained_s, 1),
                          "backlog_at_last_arrival": backlog,
                          "last_decision_after_last_arrival_s": round(sustained_s - arrived_s, 1),
                          "acknowledge_meanwhile": during},
            "lost": int(undecided) + int(failed),
            "database": "postgresql" if args.database_url else "sqlite",
        }
        print(json.dumps(result, indent=2))
    finally:
        for proc in [*workers, server]:
            proc.terminate()
        for proc in [*workers, server]:
            proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
