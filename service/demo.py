"""`make run`: train the pack if needed, then triage its sample tickets on the embedded default."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from agent.models.bundle import MANIFEST, NotTrainedError, load_models, train_pack
from agent.pack import PackError, load_pack
from agent.state import Ticket
from service.cli import _live_engine, _settings


def _needs_training(pack_dir: Path) -> bool:
    """No models yet, models older than the pack, or models this version cannot read."""
    pack = load_pack(pack_dir)
    manifest = pack.model_dir / MANIFEST
    if not manifest.exists() or json.loads(manifest.read_text()).get("pack_hash") != pack.content_hash():
        return True
    try:
        load_models(pack)
    except NotTrainedError:
        return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=Path("packs/it_helpdesk"))
    args = parser.parse_args()
    try:
        if _needs_training(args.pack):
            print(f"Training {args.pack} (once; later runs reuse {args.pack}/.model/) ...", flush=True)
            train_pack(load_pack(args.pack), progress=lambda m: print(f"  {m}", flush=True))
        settings = _settings()
        engine, helpdesk, runs = _live_engine(args.pack, settings)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    samples = [json.loads(line) for line in (args.pack / "samples.jsonl").read_text().splitlines() if line.strip()]
    print(f"\nTriaging {len(samples)} sample tickets with pack '{engine.context.pack.name}' "
          f"(state in {settings.home}/, mode {engine.context.control.mode()}):\n")
    for sample in samples:
        ticket_id = helpdesk.create_ticket(sample["text"], subject=sample.get("subject", ""))
        result = engine.run(Ticket(id=ticket_id, text=sample["text"], channel="demo")).as_json()
        runs.save(result)
        excerpt = textwrap.shorten(" ".join(sample["text"].split()), 90)
        category = result["category"] or "(out of scope)"
        print(f"ticket {ticket_id}: {excerpt}")
        print(f"  -> {result['decision']:<10} {category} ({result['confidence']:.2f}), priority {result['priority']}, "
              f"queue {result['queue']}; reasons: {', '.join(result['reasons'])}; "
              f"cites: {', '.join(result['citations']) or '-'}; {result['status']}, {result['latency_ms']:.0f} ms\n")
    print("Full decisions: .venv/bin/triage run \"your ticket text\"   Waiting for a reviewer: "
          ".venv/bin/triage review list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
