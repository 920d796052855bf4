"""Domain packs: loading and validating pack.yaml, examples.csv and kb/*.md.

A pack is the fork point: everything domain-specific (categories, policy, KB, training data, SLOs) lives in
its directory and the code stays domain-agnostic. Every validation error names the file, the line or
field, and the problem, because the people who write packs are rarely the people who wrote this code.

Errors:
    PackError               any invalid pack (file, location, message)
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError, field_validator

OUT_OF_SCOPE = "out_of_scope"
Autonomy = Literal["auto", "propose", "never"]
GuardAction = Literal["escalate", "reject", "continue"]
Probability = Annotated[float, Ge(0), Le(1)]
MODEL_DIR = ".model"

csv.field_size_limit(10_000_000)


class PackError(ValueError):
    """An invalid pack: which file, where in it, and what is wrong."""

    def __init__(self, path: Path | str, where: str | None, problem: str) -> None:
        self.path, self.where, self.problem = str(path), where, problem
        super().__init__(f"{self.path}: {where}: {problem}" if where else f"{self.path}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(_Strict):
    """The accountable person: the one who answers for the agent's decisions."""

    name: StrictStr
    email: StrictStr | None = None


class Category(_Strict):
    name: StrictStr
    description: StrictStr = ""
    queue: StrictStr | None = None
    """Routing target in the ticketing system; defaults to the category name."""
    priority: StrictStr | None = None
    """Default priority of the category's tickets; defaults to the pack's default priority."""
    autonomy: Autonomy = "auto"

    @field_validator("name")
    @classmethod
    def _name_is_usable(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if value == OUT_OF_SCOPE:
            raise ValueError(f"'{OUT_OF_SCOPE}' is reserved for tickets outside the pack's categories")
        return value

    @property
    def target_queue(self) -> str:
        return self.queue or self.name


class PriorityRule(_Strict):
    """Raise a ticket's priority when its text contains any of the phrases (case-insensitive)."""

    if_any: list[StrictStr] = Field(min_length=1)
    set: StrictStr


class Priorities(_Strict):
    values: list[StrictStr] = Field(default_factory=lambda: ["low", "normal", "high", "urgent"], min_length=1)
    """Ordered from lowest to highest."""
    default: StrictStr = "normal"
    rules: list[PriorityRule] = Field(default_factory=list)


class Limits(_Strict):
    max_chars: int = Field(default=20_000, gt=0)
    """Longer tickets are truncated and flagged `oversize`."""


class Breaker(_Strict):
    """Demote a category to `propose` when humans keep overriding it or its actions keep failing."""

    window: int = Field(default=50, gt=0)
    """How many of the category's latest outcomes are looked at."""
    min_samples: int = Field(default=10, gt=0)
    max_override_rate: Probability = 0.3
    """Share of reviewed tickets where the reviewer edited, rejected or rerouted the agent's proposal."""
    max_error_rate: Probability = 0.2
    """Share of the category's actions that failed delivery (dead letters)."""


class Commitments(_Strict):
    """What a reply may promise; the output checks hold every draft to it."""

    max_refund_amount: float | None = Field(default=None, ge=0)
    """The largest refund amount a reply may mention (None: a reply may mention no amount)."""
    currency: StrictStr = "USD"
    max_promised_days: int | None = Field(default=None, ge=0)
    """The longest deadline (in days) a reply may promise (None: no deadlines)."""


class Policy(_Strict):
    default_threshold: Probability = 0.5
    """Minimum calibrated confidence for the agent to act alone, unless `thresholds` says otherwise."""
    thresholds: dict[StrictStr, Probability] = Field(default_factory=dict)
    """Per-category thresholds (written by `triage calibrate`)."""
    min_retrieval_score: Probability = 0.3
    """Below this cosine score no KB article is considered an answer: the agent routes without a reply."""
    never_alternative_probability: Probability = 0.1
    """A ticket whose top-3 gives a `never` category at least this probability goes to a human: when the
    model hesitates between, say, a password reset and a compromised account, the doubt is the answer."""
    never_by_neighbours: bool = True
    """A ticket whose nearest training tickets are mostly of a `never` category goes to a human, whatever
    the classifier's answer: a ticket closest to known security reports is handled as one might be."""
    human_queue: StrictStr = "triage"
    """Where escalated tickets go."""
    out_of_scope: Literal["escalate", "reject"] = "escalate"
    priorities: Priorities = Field(default_factory=Priorities)
    url_allowlist: list[StrictStr] = Field(default_factory=list)
    commitments: Commitments = Field(default_factory=Commitments)
    other_languages: GuardAction = "escalate"
    """What happens to tickets written in a language the pack does not serve (see `languages`)."""
    guard: dict[StrictStr, GuardAction] = Field(default_factory=dict)
    """What each guard flag does; flags not listed escalate."""
    limits: Limits = Field(default_factory=Limits)
    approval_ttl_hours: float = Field(default=72.0, gt=0)
    """An approval request not answered in time sends the ticket to the human queue (`approval_expired`)."""
    breaker: Breaker = Field(default_factory=Breaker)


class PackManifest(_Strict):
    """The contents of pack.yaml."""

    name: StrictStr
    version: StrictStr = "0.0.0"
    description: StrictStr = ""
    owner: Owner | None = None
    languages: list[StrictStr] = Field(default_factory=lambda: ["en"])
    categories: list[Category] = Field(min_length=1)
    policy: Policy = Field(default_factory=Policy)
    slo: dict[StrictStr, float] = Field(default_factory=dict)
    """`min_<report key>` / `max_<report key>`: the numbers that count as success."""


@dataclass(frozen=True)
class Article:
    """A KB article; `answer` is the customer-facing section a draft is composed from."""

    id: str
    title: str
    categories: tuple[str, ...]
    body: str
    answer: str
    path: Path


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    line: int


@dataclass(frozen=True)
class Pack:
    """A loaded, validated pack."""

    root: Path
    manifest: PackManifest
    articles: tuple[Article, ...] = ()
    _by_name: dict[str, Category] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def policy(self) -> Policy:
        return self.manifest.policy

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.manifest.categories]

    @property
    def model_dir(self) -> Path:
        return self.root / MODEL_DIR

    def category(self, name: str) -> Category:
        return self._by_name[name]

    def has_category(self, name: str) -> bool:
        return name in self._by_name

    def threshold(self, category: str) -> float:
        return self.policy.thresholds.get(category, self.policy.default_threshold)

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)

    @property
    def queues(self) -> set[str]:
        """Every queue the agent may route to: the categories' queues and the human queue."""
        return {c.target_queue for c in self.manifest.categories} | {self.policy.human_queue}

    def examples(self) -> list[Example]:
        """The labelled training tickets of examples.csv (validated)."""
        return list(_read_examples(self.root / "examples.csv", set(self.category_names)))

    def content_hash(self) -> str:
        """A digest of everything the trained models depend on, to spot a pack changed since training."""
        digest = hashlib.sha256()
        for path in [self.root / "pack.yaml", self.root / "examples.csv", *sorted((self.root / "kb").glob("*.md"))]:
            if path.exists():
                digest.update(path.name.encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()


# --- pack.yaml ---------------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line in pack.yaml of the value at `loc`, found by walking the YAML node tree."""
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _explain(error: dict[str, Any], data: Any) -> str:
    kind, loc = error["type"], tuple(error["loc"])
    if kind == "string_type":
        return f"must be a string, got {_describe(_value_at(data, loc))} (quote it in YAML)"
    if kind == "extra_forbidden":
        return "is not a known field (check the spelling)"
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"{error['msg'].lower()}, got {_value_at(data, loc)!r}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def load_manifest(path: Path) -> PackManifest:
    """Parse and validate pack.yaml, naming the line and field of any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PackError(path, None, "not found (a pack directory needs a pack.yaml)") from None
    except UnicodeDecodeError as exc:
        raise PackError(path, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise PackError(path, where, f"is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise PackError(path, None, "must be a YAML mapping with at least `name` and `categories`")
    try:
        manifest = PackManifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = _line_of(node, loc)
        where = f"line {line}, {_location(loc)}" if line else _location(loc)
        raise PackError(path, where, _explain(dict(first), data)) from None
    _check_consistency(path, node, manifest)
    return manifest


def _check_consistency(path: Path, node: yaml.Node | None, manifest: PackManifest) -> None:
    """Cross-field rules pydantic cannot express field by field."""

    def fail(loc: tuple[Any, ...], problem: str) -> PackError:
        line = _line_of(node, loc)
        return PackError(path, f"line {line}, {_location(loc)}" if line else _location(loc), problem)

    seen: set[str] = set()
    for i, cat in enumerate(manifest.categories):
        if cat.name in seen:
            raise fail(("categories", i, "name"), f"category '{cat.name}' is defined twice")
        seen.add(cat.name)
    prio = manifest.policy.priorities
    if prio.default not in prio.values:
        raise fail(("policy", "priorities", "default"), f"'{prio.default}' is not one of {prio.values}")
    for i, cat in enumerate(manifest.categories):
        if cat.priority is not None and cat.priority not in prio.values:
            raise fail(("categories", i, "priority"), f"'{cat.priority}' is not one of {prio.values}")
    for i, rule in enumerate(prio.rules):
        if rule.set not in prio.values:
            raise fail(("policy", "priorities", "rules", i, "set"), f"'{rule.set}' is not one of {prio.values}")
    for name in manifest.policy.thresholds:
        if name not in seen:
            raise fail(("policy", "thresholds", name), f"'{name}' is not a category of the pack")
    for key in manifest.slo:
        if not re.fullmatch(r"(min|max)_[a-z0-9_]+", key):
            raise fail(("slo", key), "SLO keys are min_<report key> or max_<report key>")


# --- examples.csv ------------------------------------------------------------------------------------------


def _read_examples(path: Path, categories: set[str]) -> Iterator[Example]:
    if not path.exists():
        raise PackError(path, None, "not found (a pack needs labelled examples to train on: text,label)")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            for column in ("text", "label"):
                if column not in header:
                    raise PackError(path, "line 1", f"missing column '{column}' (header is {header})")
            line = reader.line_num
            for row in reader:
                start, line = line + 1, reader.line_num
                text = (row.get("text") or "").strip()
                label = (row.get("label") or "").strip()
                if not text:
                    raise PackError(path, f"line {start}", "empty text")
                if not label:
                    raise PackError(path, f"line {start}", "empty label")
                if label != OUT_OF_SCOPE and label not in categories:
                    raise PackError(
                        path,
                        f"line {start}",
                        f"label '{label}' is not a category of the pack "
                        f"(categories: {', '.join(sorted(categories))}; use '{OUT_OF_SCOPE}' for negatives)",
                    )
                yield Example(text=text, label=label, line=start)
    except UnicodeDecodeError as exc:
        raise PackError(path, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise PackError(path, None, f"is not valid CSV: {exc}") from None


def check_examples(pack: Pack) -> list[Example]:
    """All examples, after checking every category has at least one."""
    examples = pack.examples()
    have = {e.label for e in examples}
    missing = [c for c in pack.category_names if c not in have]
    if missing:
        raise PackError(
            pack.root / "examples.csv", None, f"no example for categories {missing}: each needs at least one"
        )
    return examples


# --- kb/*.md -----------------------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n?(.*)\Z", re.DOTALL)
_HEADING = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)


def _answer_section(body: str) -> str | None:
    headings = list(_HEADING.finditer(body))
    for i, match in enumerate(headings):
        if match.group(1).strip().lower() == "answer":
            end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
            return body[match.end() : end].strip()
    return None


def load_article(path: Path, categories: set[str]) -> Article:
    """Parse one KB article: YAML front matter (id, title, categories) and a `## Answer` section."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackError(path, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    match = _FRONT_MATTER.match(text)
    if not match:
        raise PackError(path, "line 1", "must start with front matter between '---' lines (id, title, categories)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 2}" if mark is not None else "front matter"
        raise PackError(path, where, f"front matter is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(meta, dict):
        raise PackError(path, "front matter", "must be a YAML mapping (id, title, categories)")
    for key in ("id", "title"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            got = _describe(meta.get(key)) if key in meta else "nothing"
            raise PackError(path, f"front matter, {key}", f"must be a non-empty string, got {got}")
    cats = meta.get("categories", [])
    if isinstance(cats, str):
        cats = [cats]
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        raise PackError(path, "front matter, categories", "must be a list of category names (strings)")
    for cat in cats:
        if cat not in categories:
            raise PackError(path, "front matter, categories", f"'{cat}' is not a category of the pack")
    body = match.group(2)
    answer = _answer_section(body)
    if not answer:
        raise PackError(path, None, "has no '## Answer' section (the customer-facing answer a draft is made of)")
    return Article(
        id=meta["id"].strip(), title=meta["title"].strip(), categories=tuple(cats), body=body, answer=answer, path=path
    )


def load_pack(root: Path | str) -> Pack:
    """Load and validate a pack directory (pack.yaml, kb/*.md; examples.csv is read when training)."""
    root = Path(root)
    if not root.is_dir():
        raise PackError(root, None, "is not a directory (a pack is a directory with pack.yaml)")
    manifest = load_manifest(root / "pack.yaml")
    names = {c.name for c in manifest.categories}
    articles: list[Article] = []
    seen: dict[str, Path] = {}
    for path in sorted((root / "kb").glob("*.md")):
        article = load_article(path, names)
        if article.id in seen:
            raise PackError(path, "front matter, id", f"'{article.id}' is already used by {seen[article.id].name}")
        seen[article.id] = path
        articles.append(article)
    by_name = {c.name: c for c in manifest.categories}
    return Pack(root=root, manifest=manifest, articles=tuple(articles), _by_name=by_name)
