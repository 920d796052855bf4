"""Training a pack's local models into DIR/.model/, loading them back, and rolling back to the previous one.

Artifacts are arrays (.npz/.npy, loaded with allow_pickle=False) and JSON: loading a model never runs
code. manifest.json records what the models were trained from (pack hash, data hash, the classifier's
cross-validated metrics) and a model version, so a pack edited since is noticed and every audit trail
names the model that decided. Training keeps the model it replaces in DIR/.model/previous/; `rollback`
swaps the two, so rolling back twice returns to the newer model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import __version__
from agent.models.classifier import IntentClassifier, limit_blas_threads
from agent.models.encoder import TextEncoder, load_encoder
from agent.models.multilingual import DIRECTORY as MULTILINGUAL_DIR
from agent.models.multilingual import ENCODER_NAME as MULTILINGUAL_ENCODER
from agent.models.multilingual import LanguageAwareClassifier, load_head, shared_encoder
from agent.models.multilingual import fit_head as fit_multilingual_head
from agent.models.retriever import KBIndex, customer_questions
from agent.models.text import clean_ticket
from agent.pack import OUT_OF_SCOPE, Example, Pack, check_examples
from guardrails.pii import redact

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PREVIOUS = "previous"
"""Sub-directory of .model/ holding the model the latest training replaced."""
_SWAP = ".swap"
Progress = Callable[[str], None]


class NotTrainedError(RuntimeError):
    """The pack has no trained models (or they are unreadable), or there is nothing to roll back to."""


@dataclass(frozen=True)
class TrainedModels:
    encoder: TextEncoder
    classifier: IntentClassifier
    kb: KBIndex
    manifest: dict[str, Any]
    multilingual: IntentClassifier | None = None
    """The head for tickets in other languages; None for a pack trained without it."""

    @property
    def ticket_classifier(self) -> LanguageAwareClassifier:
        """What the graph classifies with: the English model, or the multilingual head for other languages."""
        return LanguageAwareClassifier(self.classifier, self.multilingual)

    @property
    def versions(self) -> dict[str, str]:
        """What every audit trail records about the models that decided."""
        return {
            "agent_version": __version__,
            "pack_hash": str(self.manifest.get("pack_hash", ""))[:12],
            "model_version": str(self.manifest.get("model_version", "")),
            "model_trained_at": str(self.manifest.get("trained_at", "")),
            "encoder": str(self.manifest.get("encoder", "")),
        }


def model_text(text: str) -> str:
    """What the classifier sees of a ticket: redacted, then cleaned (the graph's guard_input does the same)."""
    return clean_ticket(redact(text).text)


def split_examples(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """In-scope examples and out-of-scope negatives."""
    return [e for e in examples if e.label != OUT_OF_SCOPE], [e for e in examples if e.label == OUT_OF_SCOPE]


def kb_question_examples(pack: Pack) -> list[Example]:
    """The `## Customer questions` lines of every single-category KB article, labelled with that category.

    They are tickets in all but name, written to say what the article answers, so the classifier learns
    from them too (an article serving several categories says nothing about which one a question is).
    Measured on saas_support, the 534 such questions in two halves, each half asked of a model trained
    with the other: 0.895 / 0.888 right without them, 0.944 / 0.921 with them; 5-fold CV on the
    training tickets 0.915 -> 0.918. (`line` is 0: they come from kb/, not examples.csv.)
    """
    return [Example(text=question, label=article.categories[0], line=0)
            for article in pack.articles if len(article.categories) == 1
            for question in customer_questions(article)]


def data_hash(pack: Pack) -> str:
    """sha256 of the training data alone (examples.csv)."""
    path = pack.root / "examples.csv"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def inputs_hash(pack: Pack) -> str:
    """A digest of what the models are fitted on: examples, KB articles and category names.

    Unlike the pack hash it ignores policy (thresholds from `triage calibrate`, queues, SLOs), which
    changes no model: editing policy must not make every run warn that the pack needs retraining.
    """
    digest = hashlib.sha256("\n".join(pack.category_names).encode())
    for path in [pack.root / "examples.csv", *sorted((pack.root / "kb").glob("*.md"))]:
        if path.exists():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _read_manifest(directory: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((directory / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _model_files(directory: Path) -> list[Path]:
    """What one trained model consists of: its files and sub-directories (the multilingual head)."""
    return [p for p in directory.iterdir() if p.name not in (".gitignore", PREVIOUS, _SWAP)]


def _keep_previous(out: Path) -> dict[str, Any] | None:
    """Move the current model (if any) to .model/previous/, replacing an older one there."""
    current = _read_manifest(out)
    if current is None:
        return None
    previous = out / PREVIOUS
    if previous.exists():
        shutil.rmtree(previous)
    previous.mkdir()
    for path in _model_files(out):
        path.rename(previous / path.name)
    return current


def train_pack(pack: Pack, progress: Progress | None = None, encoder: TextEncoder | None = None,
               multilingual: bool | None = None) -> dict[str, Any]:
    """Fit the classifier and the KB index; write them and a manifest to the pack's .model/.

    `multilingual` adds the head for tickets in other languages (agent/models/multilingual.py); by default
    it is fitted with the local encoder, not when another encoder is given (an endpoint's may be multilingual).
    """
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    examples = check_examples(pack)
    if multilingual is None:
        multilingual = encoder is None
    other_encoder = shared_encoder() if multilingual else None
    encoder = encoder or load_encoder()
    in_scope, negatives = split_examples(examples)
    questions = kb_question_examples(pack)
    in_scope += questions
    say(f"cleaning and embedding {len(examples)} examples and {len(questions)} KB customer questions "
        f"with {encoder.name}")
    # Trained on what the graph will see: redacted, cleaned text.
    texts = [model_text(e.text) for e in in_scope]
    oos_texts = [model_text(e.text) for e in negatives]
    vectors = encoder.encode(texts)
    oos_vectors = encoder.encode(oos_texts) if oos_texts else None
    say(f"fitting the classifier on {len(in_scope)} examples, {len(pack.category_names)} categories")
    classifier = IntentClassifier.fit(
        texts, [e.label for e in in_scope], vectors, oos_texts=oos_texts, oos_vectors=oos_vectors, progress=say
    )
    head = None
    if other_encoder is not None:
        say(f"fitting the head for other languages on {other_encoder.name} vectors of the same examples")
        head = fit_multilingual_head(texts, [e.label for e in in_scope], oos_texts, other_encoder)
    say(f"embedding {len(pack.articles)} KB articles")
    kb = KBIndex.build(pack.articles, encoder)
    out = pack.model_dir
    out.mkdir(exist_ok=True)
    (out / ".gitignore").write_text("*\n")
    # Numbered past both kept models: after a rollback the newer one sits in previous/.
    older = _read_manifest(out / PREVIOUS) or {}
    replaced = _keep_previous(out)
    if replaced is not None:
        say(f"kept model version {replaced.get('model_version', '?')} in {out / PREVIOUS} for rollback")
    classifier.save(out)
    if head is not None:
        head.save(out / MULTILINGUAL_DIR)
    kb.save(out)
    report = classifier.training_report
    manifest = {
        "pack": pack.name,
        "pack_version": pack.manifest.version,
        "model_version": max(int((replaced or {}).get("model_version", 0)), int(older.get("model_version", 0))) + 1,
        "pack_hash": pack.content_hash(),
        "data_hash": data_hash(pack),
        "inputs_hash": inputs_hash(pack),
        "agent_version": __version__,
        "encoder": encoder.name,
        "multilingual_encoder": MULTILINGUAL_ENCODER if head is not None else None,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": len(in_scope) - len(questions),
        "kb_question_examples": len(questions),
        "out_of_scope_examples": len(negatives),
        "articles": len(pack.articles),
        "train_seconds": round(time.perf_counter() - started, 2),
        # Cross-validated numbers of this model, to compare versions before choosing one to keep.
        "metrics": {key: report[key] for key in ("cv_accuracy", "cv_ece", "cv_in_scope_flag_rate", "cv_oos_recall")
                    if key in report},
        "classifier": report,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, default=float))
    return manifest


def model_summary(manifest: dict[str, Any]) -> dict[str, Any]:
    """The few manifest fields a person compares between two model versions."""
    return {key: manifest.get(key) for key in ("model_version", "trained_at", "pack_hash", "data_hash", "examples",
                                               "out_of_scope_examples", "metrics")}


def model_versions(pack: Pack) -> dict[str, dict[str, Any] | None]:
    """The current and the previous model's summaries (None where there is none)."""
    current = _read_manifest(pack.model_dir)
    previous = _read_manifest(pack.model_dir / PREVIOUS)
    return {"current": model_summary(current) if current else None,
            "previous": model_summary(previous) if previous else None}


def rollback(pack: Pack) -> dict[str, Any]:
    """Make the previous model current again; the replaced one becomes `previous` (roll forward = again)."""
    out = pack.model_dir
    previous = out / PREVIOUS
    older = _read_manifest(previous)
    if older is None:
        raise NotTrainedError(f"{previous}: no previous model to roll back to (one is kept each time you train)")
    swap = out / _SWAP
    if swap.exists():
        shutil.rmtree(swap)
    swap.mkdir()
    for path in _model_files(out):
        path.rename(swap / path.name)
    for path in _model_files(previous):
        path.rename(out / path.name)
    shutil.rmtree(previous)
    swap.rename(previous)
    return older


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
    # Older manifests have no inputs hash: fall back to the whole-pack hash.
    stale = (manifest["inputs_hash"] != inputs_hash(pack) if "inputs_hash" in manifest
             else manifest.get("pack_hash") != pack.content_hash())
    if stale:
        logger.warning("%s changed since it was trained: run `triage train --pack %s`", pack.root, pack.root)
    encoder = load_encoder(prefer=manifest.get("encoder"), threads=threads)
    limit_blas_threads()
    try:
        classifier = IntentClassifier.load(directory)
        multilingual = load_head(directory)
        kb = KBIndex.load(directory)
    except (OSError, KeyError, ValueError) as exc:
        raise NotTrainedError(f"{directory}: model files are missing or damaged ({exc}): retrain the pack") from None
    # A KB article removed since training must never be cited: keep only ids the pack still has.
    if any(pack.article(i) is None for i in kb.ids):
        logger.warning("%s: the KB changed since training; retrain to index new articles", pack.root)
    return TrainedModels(encoder=encoder, classifier=classifier, kb=kb, manifest=manifest, multilingual=multilingual)
