"""`make run`: train the pack if needed, then triage its sample tickets on the embedded default."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from agent.models.bundle import MANIFEST, NotTrainedError, train_pack
from agent.pack import PackError, load_pack
from service.cli import _settings
from service.runtime import open_embedded


def _stale(pack_dir: Path) -> bool:
    """No models yet, or models older than the pack."""
    pack = load_pack(pack_dir)
    manifest = pack.model_dir / MANIFEST
    return not manifest.exists() or json.loads(manifest.read_text()).get("pack_hash") != pack.content_hash()


def _train(pack_dir: Path) -> None:
    print(f"Training {pack_dir} (once; later runs reuse {pack_dir}/.model/) ...", flush=True)
    train_pack(load_pack(pack_dir), progress=lambda m: print(f"  {m}", flush=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pack", type=Path, default=Path("packs/saas_support"))
    args = parser.parse_args()
    try:
        if _stale(args.pack):
            _train(args.pack)
        settings = _settings()
        try:
            app = open_embedded(settings, args.pack)
        except NotTrainedError:  # models written by a version that cannot be read any more
            _train(args.pack)
            app = open_embedded(settings, args.pack)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    samples = [json.loads(line) for line in (args.pack / "samples.jsonl").read_text().splitlines() if line.strip()]
    print(f"\nTriaging {len(samples)} sample tickets with pack '{app.pack.name}' "
          f"(state in {settings.home}/, mode {app.control.mode()}):\n")
    for sample in samples:
        result = app.submit(sample["text"], subject=sample.get("subject", ""), channel="demo")
        excerpt = textwrap.shorten(" ".join(sample["text"].split()), 90)
        category = (f"{result['category']} ({result['confidence']:.2f})" if result["category"]
                    else f"out of scope (score {result['oos_score']:.2f})")
        print(f"ticket {result['ticket_id']}: {excerpt}")
        print(f"  -> {result['decision']:<10} {category}, priority {result['priority']}, "
              f"queue {result['queue']}; reasons: {', '.join(result['reasons'])}; "
              f"cites: {', '.join(result['citations']) or '-'}; {result['status']}, {result['latency_ms']:.0f} ms\n")
    print("Full decisions: .venv/bin/triage run \"your ticket text\"   Waiting for a reviewer: "
          ".venv/bin/triage review list")
    return 0


if __name__ == "__main__":
    sys.exit(main())
