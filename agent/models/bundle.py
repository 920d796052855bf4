"""Training a pack's local models into DIR/.model/ and loading them back.

Artifacts are arrays (.npz/.npy, loaded with allow_pickle=False) and JSON: loading a model never runs
code. manifest.json records what the models were trained from, so a pack edited since is noticed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent import __version__
from agent.models.classifier import IntentClassifier
from agent.models.encoder import TextEncoder, load_encoder
from agent.models.retriever import KBIndex
from agent.models.text import clean_ticket
from agent.pack import OUT_OF_SCOPE, Pack, check_examples
from guardrails.pii import redact

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
Progress = Callable[[str], None]


class NotTrainedError(RuntimeError):
    """The pack has no trained models (or they are unreadable)."""


@dataclass(frozen=True)
class TrainedModels:
    encoder: TextEncoder
    classifier: IntentClassifier
    kb: KBIndex
    manifest: dict[str, Any]

    @property
    def versions(self) -> dict[str, str]:
        """What every audit trail records about the models that decided."""
        return {
            "agent_version": __version__,
            "pack_hash": str(self.manifest.get("pack_hash", ""))[:12],
            "model_trained_at": str(self.manifest.get("trained_at", "")),
            "encoder": str(self.manifest.get("encoder", "")),
        }


def train_pack(pack: Pack, progress: Progress | None = None, encoder: TextEncoder | None = None) -> dict[str, Any]:
    """Fit the classifier and the KB index; write them and a manifest to the pack's .model/."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    examples = check_examples(pack)
    encoder = encoder or load_encoder()
    in_scope = [e for e in examples if e.label != OUT_OF_SCOPE]
    negatives = [e for e in examples if e.label == OUT_OF_SCOPE]
    say(f"cleaning and embedding {len(examples)} examples with {encoder.name}")
    # Trained on what the graph will see: redacted, cleaned text.
    texts = [clean_ticket(redact(e.text).text) for e in in_scope]
    oos_texts = [clean_ticket(redact(e.text).text) for e in negatives]
    vectors = encoder.encode(texts)
    oos_vectors = encoder.encode(oos_texts) if oos_texts else None
    say(f"fitting the classifier on {len(in_scope)} examples, {len(pack.category_names)} categories")
    classifier = IntentClassifier.fit(
        texts, [e.label for e in in_scope], vectors, oos_texts=oos_texts, oos_vectors=oos_vectors, progress=say
    )
    say(f"embedding {len(pack.articles)} KB articles")
    kb = KBIndex.build(pack.articles, encoder)
    out = pack.model_dir
    out.mkdir(exist_ok=True)
    (out / ".gitignore").write_text("*\n")
    classifier.save(out)
    kb.save(out)
    manifest = {
        "pack": pack.name,
        "pack_version": pack.manifest.version,
        "pack_hash": pack.content_hash(),
        "agent_version": __version__,
        "encoder": encoder.name,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(in_scope),
        "out_of_scope_examples": len(negatives),
        "articles": len(pack.articles),
        "train_seconds": round(time.perf_counter() - started, 2),
        "classifier": classifier.training_report,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, default=float))
    return manifest


def load_models(pack: Pack, threads: int = 2) -> TrainedModels:
    """Load a trained pack's models, checking they match the pack and the installed encoder."""
    directory = pack.model_dir
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise NotTrainedError(
            f"{pack.root}: the pack is not trained yet: run `triage train --pack {pack.root}`"
        ) from None
    except json.JSONDecodeError as exc:
        raise NotTrainedError(f"{directory / MANIFEST}: unreadable ({exc}): retrain the pack") from None
    if manifest.get("pack_hash") != pack.content_hash():
        logger.warning("%s changed since it was trained: run `triage train --pack %s`", pack.root, pack.root)
    encoder = load_encoder(prefer=manifest.get("encoder"), threads=threads)
    try:
        classifier = IntentClassifier.load(directory)
        kb = KBIndex.load(directory)
    except (OSError, KeyError, ValueError) as exc:
        raise NotTrainedError(f"{directory}: model files are missing or damaged ({exc}): retrain the pack") from None
    # A KB article removed since training must never be cited: keep only ids the pack still has.
    if any(pack.article(i) is None for i in kb.ids):
        logger.warning("%s: the KB changed since training; retrain to index new articles", pack.root)
    return TrainedModels(encoder=encoder, classifier=classifier, kb=kb, manifest=manifest)
