"""What a pack's models learn from: examples.csv and the KB articles' customer questions."""

from __future__ import annotations

from pathlib import Path

from agent.models.bundle import kb_question_examples, load_models, train_pack
from agent.pack import load_pack
from tests.conftest import TINY_KB, PackFactory

QUESTIONS_ARTICLE = (
    "Context for agents.\n\n## Answer\n"
    "Open Settings > Sessions, sign the other devices out and change your password.\n\n"
    "## Customer questions\n"
    "- An unfamiliar laptop shows up under my active sessions\n"
    "- There's a session from a device I don't own\n"
    "1. Who is this Windows PC in my session list?\n"
)


def _pack_with_questions(make_pack: PackFactory) -> Path:
    kb = dict(TINY_KB)
    # Filed under password_reset: the examples alone send such tickets to security.
    kb["kb-pw-2.md"] = ("KB-PW-2", "Sign out other devices", ["password_reset"], "placeholder")
    kb["kb-both.md"] = ("KB-BOTH", "Password or billing", ["password_reset", "billing"], "placeholder")
    root = make_pack(kb=kb)
    for name in ("kb-pw-2.md", "kb-both.md"):
        path = root / "kb" / name
        path.write_text(path.read_text().replace("Context for agents.\n\n## Answer\nplaceholder\n", QUESTIONS_ARTICLE))
    return root


def test_customer_questions_become_examples_of_their_articles_category(make_pack: PackFactory) -> None:
    pack = load_pack(_pack_with_questions(make_pack))
    questions = kb_question_examples(pack)
    # Only the single-category article's lines count: the two-category one cannot say which it is.
    assert [(q.text, q.label) for q in questions] == [
        ("An unfamiliar laptop shows up under my active sessions", "password_reset"),
        ("There's a session from a device I don't own", "password_reset"),
        ("Who is this Windows PC in my session list?", "password_reset"),
    ]


def test_a_ticket_worded_like_a_customer_question_reaches_its_category(make_pack: PackFactory) -> None:
    pack = load_pack(_pack_with_questions(make_pack))
    manifest = train_pack(pack)
    models = load_models(pack)
    text = "an unfamiliar windows laptop is in my active sessions list"
    prediction = models.classifier.predict(text, models.encoder.encode([text])[0])
    assert prediction.label == "password_reset"
    assert manifest["kb_question_examples"] == 3
    assert manifest["examples"] == 18  # examples.csv's in-scope rows, counted apart from the questions
