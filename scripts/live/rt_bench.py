"""Latency of the RT adapter's calls against the live RT from scripts/live/rt.sh (a measurement, not a test).

    .venv/bin/python scripts/live/rt_bench.py [--env /var/lib/triage-rt/env] [-n 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from integrations.rt import RequestTrackerAdapter, RTSettings


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line and not line.startswith("#"))
    return {name: value.strip("'") for name, value in pairs}


def timed(label: str, call: Callable[[int], object], n: int) -> None:
    samples = []
    for i in range(n):
        began = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - began) * 1000)
    print(f"{label:<28} median {statistics.median(samples):5.0f} ms   max {max(samples):5.0f} ms   (n={n})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", type=Path, default=Path("/var/lib/triage-rt/env"))
    parser.add_argument("-n", type=int, default=10)
    args = parser.parse_args()
    env = read_env(args.env)
    rt = RequestTrackerAdapter(RTSettings(base_url=env["TRIAGE_RT_BASE_URL"], token=env["TRIAGE_RT_TOKEN"]))
    person = httpx.Client(base_url=f"{env['TRIAGE_RT_BASE_URL']}/REST/2.0",
                          headers={"Authorization": f"token {env['TRIAGE_RT_HUMAN_TOKEN']}"})
    tid = str(person.post("/ticket", json={"Queue": "General", "Subject": "latency", "Content": "latency",
                                           "ContentType": "text/plain"}).json()["id"])
    run = str(time.time_ns())
    timed("get_ticket", lambda i: rt.get_ticket(tid), args.n)
    timed("add_note (new key)", lambda i: rt.add_note(tid, "n", idempotency_key=f"{run}:{i}"), args.n)
    timed("add_note (repeated key)", lambda i: rt.add_note(tid, "n", idempotency_key=f"{run}:0"), args.n)
    timed("set_fields (a change)", lambda i: rt.set_fields(tid, {"priority": ("low", "high")[i % 2]},
                                                             idempotency_key=f"{run}:f{i}"), args.n)
    timed("set_fields (nothing to do)", lambda i: rt.set_fields(tid, {"priority": "high"}, idempotency_key="f"),
          args.n)


if __name__ == "__main__":
    main()
