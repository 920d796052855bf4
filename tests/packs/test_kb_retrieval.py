"""KB retrieval cites the article a ticket is about: the bundled KBs and the pointer-sentence rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.models.encoder import load_encoder
from agent.models.retriever import KBIndex, customer_questions
from agent.models.text import clean_ticket
from agent.pack import Article, load_pack

PACKS = sorted(p for p in (Path(__file__).resolve().parents[2] / "packs").iterdir() if (p / "pack.yaml").exists())


class SilentEncoder:
    """Every text gets the same vector (dense cosine 1.0 everywhere): only the lexical match tells articles apart."""

    name = "silent"
    dim = 4

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        vectors[:, 0] = 1.0
        return vectors


def make_article(article_id: str, title: str, context: str, answer: str, category: str = "data_export") -> Article:
    body = f"{context}\n\n## Answer\n{answer}\n\n## Notes for agents\nRoute to support-general.\n"
    return Article(id=article_id, title=title, categories=(category,), body=body, answer=answer,
                   path=Path(f"{article_id}.md"))


def test_a_sentence_pointing_to_a_sibling_article_does_not_win_the_sibling_s_tickets() -> None:
    # The CSV article names the sibling's subject ("whole-workspace backups ... JSON") only to send readers on.
    csv_article = make_article(
        "KB-CSV", "Export a project to CSV",
        "Use for one project's tasks in a spreadsheet. Whole-workspace backups with attachments as JSON: KB-FULL.",
        "Open the project, select Export CSV and the file downloads at once.",
    )
    full_article = make_article(
        "KB-FULL", "Export your whole workspace",
        "Use when a customer wants a complete copy of everything.",
        "Start the full export in Settings; the Owner receives a download link by email.",
    )
    index = KBIndex.build([csv_article, full_article], SilentEncoder())
    ticket = "we need whole-workspace backups with attachments as JSON"
    vector = SilentEncoder().encode([ticket])[0]

    best = index.search(vector, clean_ticket(ticket), "data_export", k=2)[0]

    assert best.id == "KB-FULL"


def test_a_sentence_naming_another_category_is_not_indexed_for_this_article() -> None:
    article = make_article(
        "KB-FEA", "How we handle feature requests",
        "Use when a customer suggests an idea. Something that exists but does not work is bug_report.",
        "Thank you for your idea; it goes to the product team.", category="feature_request",
    )
    other = make_article("KB-BUG", "Report a bug", "Use when something is broken.",
                         "Send the steps to reproduce it.", category="bug_report")
    index = KBIndex.build([article, other], SilentEncoder())
    ticket = "something exists but does not work"

    hits = index.search(SilentEncoder().encode([ticket])[0], clean_ticket(ticket), "feature_request", k=1)

    assert hits[0].id == "KB-FEA"
    assert hits[0].score == pytest.approx(1.0)  # the dense 1.0 alone: no word of the pointer sentence matched


@pytest.mark.parametrize("pack_dir", PACKS, ids=[p.name for p in PACKS])
def test_every_customer_question_retrieves_its_own_article(pack_dir: Path) -> None:
    """A question an article says it answers must find that article among its category's articles."""
    pack = load_pack(pack_dir)
    asked = [(article, question) for article in pack.articles for question in customer_questions(article)]
    if not asked:
        pytest.skip(f"{pack.name}: no article has a '## Customer questions' section")
    encoder = load_encoder()
    index = KBIndex.build(pack.articles, encoder)
    vectors = encoder.encode([clean_ticket(question) for _, question in asked])
    misses = []
    for (article, question), vector in zip(asked, vectors, strict=True):
        best = index.search(vector, clean_ticket(question), article.categories[0], k=1)[0]
        if best.id != article.id:
            misses.append(f"{article.id}: {question!r} -> {best.id}")
    assert not misses, "questions that retrieve another article:\n" + "\n".join(misses)
