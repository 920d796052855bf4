"""BM25, the retriever's second lexical signal, and how the KB index keeps it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agent.models.bm25 import BM25
from agent.models.retriever import KBIndex
from agent.models.text import clean_ticket
from tests.packs.test_kb_retrieval import SilentEncoder, make_article

DOCS = [
    "Export a project to CSV. Open the project, choose Export, pick CSV. One project's tasks as a spreadsheet.",
    "Export the whole workspace. Admins start a full backup of every project with attachments as JSON.",
    "Reset your password from the sign-in page.",
]


def test_scores_are_relative_to_the_best_article() -> None:
    scores = BM25.fit(DOCS).scores("how do I export one project to CSV")
    assert scores.argmax() == 0 and scores.max() == pytest.approx(1.0)
    assert 0 < scores[1] < 1 and scores[2] == 0.0


def test_unknown_and_stop_words_score_nothing() -> None:
    model = BM25.fit(DOCS)
    assert not model.scores("the and of zzzunknown").any()
    assert not model.scores("").any()


def test_a_word_repeated_in_an_article_outweighs_a_single_mention_in_a_longer_one() -> None:
    short = "Invoices. Download an invoice. Invoice copies. Change the invoice address."
    long = "Plans and seats. " + "Adding seats changes what you pay each month. " * 6 + "An invoice follows."
    assert BM25.fit([short, long]).scores("invoice").argmax() == 0


def test_the_index_saves_and_loads_its_bm25_and_reads_an_index_saved_without_it(tmp_path: Path) -> None:
    articles = [make_article("KB-CSV", "Export a project to CSV", "One project as a spreadsheet.", "Choose Export."),
                make_article("KB-FULL", "Back up the whole workspace", "Every project as JSON.", "Admins back up.")]
    index = KBIndex.build(articles, SilentEncoder())
    ticket = clean_ticket("I need a spreadsheet of one project")
    vector = SilentEncoder().encode([ticket])[0]
    before = index.search(vector, ticket, "data_export", k=2)
    index.save(tmp_path)
    loaded = KBIndex.load(tmp_path)
    assert loaded.bm25 is not None
    assert loaded.search(vector, ticket, "data_export", k=2) == before

    older = tmp_path / "older"
    older.mkdir()
    KBIndex(index.ids, index.titles, index.categories, index.chunk_article, index.vectors,
            index.lexical, index.lexical_matrix).save(older)
    assert KBIndex.load(older).bm25 is None
    assert [hit.id for hit in KBIndex.load(older).search(vector, ticket, "data_export", k=2)] == ["KB-CSV", "KB-FULL"]
    assert np.isfinite([hit.score for hit in before]).all()
