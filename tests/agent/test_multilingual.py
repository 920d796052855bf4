"""Tickets in other languages: classified by the multilingual head, so they reach the right queue."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from agent.models.bundle import load_models, model_text, rollback, train_pack
from agent.models.multilingual import DIRECTORY, LanguageAwareClassifier
from agent.pack import load_pack
from tests.agent.fakes import FakeClassifier, prediction

GERMAN = "Hallo, seit dem Update bekomme ich auf meinem Android-Handy keine Push-Mitteilungen mehr."


def test_only_tickets_in_other_languages_take_the_head() -> None:
    english, other = FakeClassifier(prediction("billing")), FakeClassifier(prediction("mobile"))
    routed = LanguageAwareClassifier(english, other)
    vector = np.zeros(4, dtype=np.float32)
    assert routed.predict(GERMAN, vector).label == "mobile"
    assert routed.predict("I can't find the invoice for last month anywhere", vector).label == "billing"
    assert routed.predict("Rechnung PDF", vector).label == "billing"  # too short to tell: the English model
    alone = LanguageAwareClassifier(english, None)
    assert alone.predict(GERMAN, vector).label == "billing"  # a pack trained without the head


@pytest.mark.parametrize("text, category", [
    (GERMAN, "mobile_app"),
    ("Olá, fomos cobrados duas vezes este mês e queremos o dinheiro de volta.", "refund_request"),
    ("Ciao, qualcuno ha effettuato l'accesso al mio account da un paese sconosciuto!", "security_report"),
])
def test_the_default_pack_routes_tickets_in_other_languages(trained_default_pack: Path, text: str,
                                                             category: str) -> None:
    models = load_models(load_pack(trained_default_pack))
    clean = model_text(text)
    vector = models.encoder.encode([clean])[0]
    assert models.manifest["multilingual_encoder"] == "use-multilingual-v3"
    result = models.ticket_classifier.predict(clean, vector)
    assert result.label == category and not result.out_of_scope


def test_the_head_is_kept_and_restored_with_its_model(tiny_pack: Path, tmp_path: Path) -> None:
    root = tmp_path / tiny_pack.name
    shutil.copytree(tiny_pack, root)
    pack = load_pack(root)
    assert (pack.model_dir / DIRECTORY).is_dir()
    train_pack(pack, multilingual=False)  # a model without the head replaces one with it
    assert not (pack.model_dir / DIRECTORY).exists()
    assert load_models(pack).multilingual is None
    rollback(pack)
    assert (pack.model_dir / DIRECTORY).is_dir() and load_models(pack).multilingual is not None
    manifest = json.loads((pack.model_dir / "previous" / "manifest.json").read_text())
    assert manifest["multilingual_encoder"] is None
