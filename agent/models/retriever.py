"""KB retrieval: dense cosine over article chunks, blended with a lexical TF-IDF match.

Each article is embedded as several chunks and scores as its best one: title + answer, title + the rest
(context line and agent notes), and title + each line of an optional `## Customer questions` section (the
ways customers ask what the article answers: short chunks worded like tickets). Product words ("webhook",
"SAML", "invoice") tell sibling articles of one category apart better than a sentence embedding does, so a
word-level TF-IDF cosine over the whole article is added with weight LEXICAL_WEIGHT.

Sentences that point to another article ("Whole-workspace backups: KB-EXP-002.") or to another category
("... is bug_report.") describe what the article is NOT about; indexed, they pull exactly the tickets
that belong elsewhere, so they are left out of every chunk and of the lexical document.

Measured (top-1 article within the labelled category): saas_support eval set, 276 cases: 0.884 with two
chunks, pointer sentences kept and lexical weight 0.5; 0.899 with pointer sentences dropped and weight
1.0; 0.906 once its articles had `## Customer questions` (0.909 at weight 0.75, 0.902 at 1.5: flat, so
the round number). it_helpdesk, 69 cases: 0.913 before and after. Numpy search is ~0.3 ms over
10,000 x 384 here, far beyond any KB's size.

Adding a second encoder's cosine (USE multilingual v3, see agent/models/classifier.py) lowered the
leave-one-question-out top-1 (protocol in the next paragraph): dense score (1 - s) * MiniLM + s * USE
at s = 0 / 0.25 / 0.5 / 0.75 / 1 gave 0.916 / 0.911 / 0.905 / 0.900 / 0.891 (saas_support, now 359
questions, lexical weight 1.0).

Chosen by leave-one-question-out cross-validation (each customer question removed from its article, then
asked; top-1 within the category; saas_support, 238 questions): lexical weight 0.5 / 0.75 / 1.0 / 1.5 /
2.0 gave 0.903 / 0.916 / 0.924 / 0.912 / 0.916; adding the runner-up chunks of an article (+0.3-0.5 x
the mean of its next 1-2 best) 0.908-0.916; dropping the answer from the lexical document 0.898 (so
customers' words do meet the answer's); counting the questions twice there 0.920. The KB text, not the
scoring, is what moves it: 130 more customer-question lines for the sibling articles customers mix up
took the same held-out 238 from 0.924 to 0.929, and the eval set's top-1 within the labelled category
from 227 to 235 of 251. Again with 193 more lines aimed at the sibling pairs this test confused (none
within cosine 0.85 of a line already in its article; 552 in all): the 359 questions the KB had
before, each held out in turn, 328 -> 339 (0.914 -> 0.944).
BM25 (agent/models/bm25.py, scores divided by the best article's) added with weight BM25_WEIGHT to the two
scores above, chosen by the same leave-one-question-out test on the 552 questions: 519 right without it,
weight 0.1 / 0.2 / 0.25 / 0.3 / 0.5 / 0.75 gave 527 / 528 / 528 / 527 / 526 / 521 (a flat top, so the
middle of it); in place of the TF-IDF cosine 520-526. With the encoder's vectors made independent of
batching afterwards (agent/models/encoder.py): 524 -> 528. On the eval sets, given each case's labelled
category: saas_support 254 -> 253 of 276 ranked first, it_helpdesk grounding 0.739 -> 0.783.
Choosing category and article together (each article's score + w * log p(its category) over the
classifier's top three, instead of retrieving within the top category; questions in two halves, each
asked of a classifier and index built with the other): 0.873 -> 0.880 at best (w = 0.1), 4 of 552 more,
and the category right 504 -> 507: within noise, not kept. Tried again once the default pack had a dev
set (packs/saas_support/dev.jsonl), on the shipped models: there it looked strong at w = 0.05 (category
269 -> 277 of 301, article 228 -> 237 of 258; 11 tickets gained, 3 lost), but on the eval set it lost
(category 385 -> 377 of 415, article 248 -> 243; 3 gained, 11 lost; flat at w >= 0.2) and it_helpdesk
gained 1-2 of 96. Two sets by two writers disagree on the sign, so the gain belongs to one writer's
wording, not to the method: not kept.
Customer-question chunks without the title in front (a title such as "Charged twice or charged after
cancelling" puts "charged" into every chunk of its article): dev set 252 -> 254 of 258, it_helpdesk eval
65 -> 65, leave-one-question-out 1,291 -> 1,282 of 1,355 (short questions lean on the title): not kept.
A learned article model instead (a linear model on the customer questions, article ids as labels; five
folds over the 552 questions, index rebuilt without the held-out ones): alone 0.882 against this
retriever's 0.942, and added to its score as w * log-probability lower at every weight (0.938 at w = 0.02).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from agent.models.bm25 import BM25
from agent.models.encoder import TextEncoder, Vector
from agent.models.text import clean_ticket, normalize
from agent.models.tfidf import TfidfVectorizer
from agent.pack import Article
from agent.state import RetrievedArticle

_FILE = "kb_index.npz"
LEXICAL_WEIGHT = 1.0
BM25_WEIGHT = 0.25
_META = "kb_index.json"
QUESTIONS_HEADING = "customer questions"
_HEADING = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_LIST_MARK = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")


def _sections(body: str) -> dict[str, str]:
    """The body split at `## ` headings: lower-cased heading -> text ("" holds the text before the first)."""
    parts: dict[str, str] = {}
    headings = list(_HEADING.finditer(body))
    parts[""] = body[: headings[0].start()] if headings else body
    for i, match in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
        parts[match.group(1).strip().lower()] = body[match.end() : end]
    return parts


def _pointer_pattern(article: Article, ids: Iterable[str], categories: Iterable[str]) -> re.Pattern[str] | None:
    """Names of the other articles and categories: a sentence that mentions one points away from this article."""
    names = {i for i in ids if i != article.id} | (set(categories) - set(article.categories))
    if not names:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b")


def _without_pointers(text: str, pointer: re.Pattern[str] | None) -> str:
    sentences = (s for s in _SENTENCE_END.split(text) if s.strip())
    return normalize(" ".join(s for s in sentences if pointer is None or not pointer.search(s)))


def customer_questions(article: Article) -> list[str]:
    """The lines of the article's `## Customer questions` section, list marks removed."""
    lines = _sections(article.body).get(QUESTIONS_HEADING, "").splitlines()
    return [question for question in (_LIST_MARK.sub("", line).strip() for line in lines) if question]


def _chunks(article: Article, pointer: re.Pattern[str] | None) -> list[str]:
    sections = _sections(article.body)
    rest = " ".join(text for name, text in sections.items() if name not in ("answer", QUESTIONS_HEADING))
    chunks = [f"{article.title}. {article.answer}", f"{article.title}. {_without_pointers(rest, pointer)}"]
    return chunks + [f"{article.title}. {question}" for question in customer_questions(article)]


def _lexical_document(article: Article, pointer: re.Pattern[str] | None) -> str:
    sections = _sections(article.body)
    return f"{article.title}. " + " ".join(_without_pointers(text, pointer) for text in sections.values())


class KBIndex:
    """Article chunk vectors and the categories each article serves."""

    def __init__(self, ids: list[str], titles: list[str], categories: list[list[str]],
                 chunk_article: np.ndarray, vectors: Vector, lexical: TfidfVectorizer | None = None,
                 lexical_matrix: sp.csr_matrix | None = None, bm25: BM25 | None = None) -> None:
        self.ids, self.titles, self.categories = ids, titles, categories
        self.chunk_article = chunk_article
        self.vectors = vectors
        self.lexical = lexical
        self.lexical_matrix = lexical_matrix
        self.bm25 = bm25  # None in an index saved before BM25 was added: it scores as it did then

    @classmethod
    def build(cls, articles: tuple[Article, ...] | list[Article], encoder: TextEncoder) -> KBIndex:
        """Embed every article's chunks."""
        texts: list[str] = []
        owner: list[int] = []
        ids = [a.id for a in articles]
        categories = {c for a in articles for c in a.categories}
        pointers = [_pointer_pattern(a, ids, categories) for a in articles]
        for i, article in enumerate(articles):
            for chunk in _chunks(article, pointers[i]):
                texts.append(clean_ticket(chunk))
                owner.append(i)
        vectors = encoder.encode(texts) if texts else np.zeros((0, encoder.dim), dtype=np.float32)
        lexical, matrix, bm25 = None, None, None
        if articles:
            documents = [clean_ticket(_lexical_document(a, pointers[i]), max_chars=20_000)
                         for i, a in enumerate(articles)]
            lexical = TfidfVectorizer(word_ngrams=(1, 2), char_ngrams=None).fit(documents)
            matrix = lexical.transform(documents)
            bm25 = BM25.fit(documents)
        return cls(
            ids=[a.id for a in articles],
            titles=[a.title for a in articles],
            categories=[list(a.categories) for a in articles],
            chunk_article=np.array(owner, dtype=np.int32),
            vectors=vectors,
            lexical=lexical,
            lexical_matrix=matrix,
            bm25=bm25,
        )

    def search(self, vector: Vector, text: str, category: str | None, k: int = 3) -> list[RetrievedArticle]:
        """Best articles for a ticket; only the category's own articles when a category is given."""
        if not self.ids:
            return []
        scores = self.vectors @ np.asarray(vector, dtype=np.float32)
        best = np.full(len(self.ids), -1.0, dtype=np.float32)
        np.maximum.at(best, self.chunk_article, scores)
        if self.lexical is not None and self.lexical_matrix is not None:
            cols, vals = self.lexical.transform_one(text)
            if len(cols):
                lexical_scores = np.asarray(self.lexical_matrix[:, cols] @ vals, dtype=np.float32).ravel()
                best = best + np.float32(LEXICAL_WEIGHT) * lexical_scores
        if self.bm25 is not None:
            best = best + np.float32(BM25_WEIGHT) * self.bm25.scores(text)
        allowed = [i for i in range(len(self.ids)) if category is None or category in self.categories[i]]
        allowed.sort(key=lambda i: -float(best[i]))
        return [RetrievedArticle(id=self.ids[i], title=self.titles[i], score=round(float(best[i]), 4))
                for i in allowed[:k]]

    def save(self, directory: Path) -> None:
        arrays: dict[str, Any] = {"vectors": self.vectors, "chunk_article": self.chunk_article}
        if self.lexical is not None and self.lexical_matrix is not None:
            self.lexical.save(directory, prefix="kb_tfidf")
            matrix = self.lexical_matrix.tocsr()
            arrays.update(lex_data=matrix.data, lex_indices=matrix.indices, lex_indptr=matrix.indptr,
                          lex_shape=np.array(matrix.shape))
        meta: dict[str, Any] = {"ids": self.ids, "titles": self.titles, "categories": self.categories}
        if self.bm25 is not None:
            weights = self.bm25.weights.tocsr()
            arrays.update(bm25_data=weights.data, bm25_indices=weights.indices, bm25_indptr=weights.indptr,
                          bm25_shape=np.array(weights.shape))
            meta["bm25_vocabulary"] = sorted(self.bm25.vocabulary, key=self.bm25.vocabulary.__getitem__)
        np.savez(directory / _FILE, allow_pickle=False, **arrays)
        (directory / _META).write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, directory: Path) -> KBIndex:
        meta = json.loads((directory / _META).read_text())
        with np.load(directory / _FILE, allow_pickle=False) as arrays:
            lexical, matrix = None, None
            if "lex_data" in arrays:
                lexical = TfidfVectorizer.load(directory, prefix="kb_tfidf")
                matrix = sp.csr_matrix((arrays["lex_data"], arrays["lex_indices"], arrays["lex_indptr"]),
                                       shape=tuple(arrays["lex_shape"]))
            bm25 = None
            if "bm25_data" in arrays:
                weights = sp.csr_matrix((arrays["bm25_data"], arrays["bm25_indices"], arrays["bm25_indptr"]),
                                        shape=tuple(arrays["bm25_shape"]))
                bm25 = BM25({word: i for i, word in enumerate(meta["bm25_vocabulary"])}, weights)
            return cls(meta["ids"], meta["titles"], meta["categories"],
                       arrays["chunk_article"], arrays["vectors"].astype(np.float32), lexical, matrix, bm25)
