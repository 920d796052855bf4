"""Pack loading: defaults, and every validation error names the file, the line or field and the problem."""

from __future__ import annotations

import pytest

from agent.pack import OUT_OF_SCOPE, PackError, check_examples, load_pack
from tests.conftest import TINY_YAML, PackFactory

MINIMAL = "name: mini\ncategories:\n  - name: a\n  - name: b\n"


def error_of(make_pack: PackFactory, **kwargs: object) -> str:
    root = make_pack(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(PackError) as info:
        check_examples(load_pack(root))
    return str(info.value)


def test_minimal_pack_gets_documented_defaults(make_pack: PackFactory) -> None:
    root = make_pack(yaml_text=MINIMAL, examples={"a": ["one"], "b": ["two"]}, kb={})
    pack = load_pack(root)
    assert pack.category_names == ["a", "b"]
    assert pack.category("a").autonomy == "auto"
    assert pack.category("a").target_queue == "a"
    assert pack.manifest.owner is None
    assert pack.policy.priorities.values == ["low", "normal", "high", "urgent"]
    assert pack.threshold("a") == pack.policy.default_threshold
    assert pack.articles == ()  # an empty kb/ is a valid routing-only pack
    assert len(check_examples(pack)) == 2  # one example per category is enough


@pytest.mark.parametrize("value, described", [("12", "the number 12"), ("true", "the boolean true"),
                                               ("1.5", "the number 1.5")])
def test_category_name_must_be_a_string(make_pack: PackFactory, value: str, described: str) -> None:
    message = error_of(make_pack, yaml_text=f"name: x\ncategories:\n  - name: a\n  - name: {value}\n")
    assert "pack.yaml" in message
    assert "line 4" in message and "categories[1].name" in message
    assert f"must be a string, got {described}" in message


def test_out_of_scope_is_reserved(make_pack: PackFactory) -> None:
    message = error_of(make_pack, yaml_text=f"name: x\ncategories:\n  - name: {OUT_OF_SCOPE}\n")
    assert "categories[0].name" in message and "reserved" in message


def test_duplicate_category(make_pack: PackFactory) -> None:
    message = error_of(make_pack, yaml_text="name: x\ncategories:\n  - name: a\n  - name: a\n")
    assert "line 4" in message and "defined twice" in message


def test_unknown_field_and_bad_autonomy(make_pack: PackFactory) -> None:
    assert "is not a known field" in error_of(make_pack, yaml_text="name: x\ncategories:\n  - name: a\n    queu: q\n")
    message = error_of(make_pack, yaml_text="name: x\ncategories:\n  - name: a\n    autonomy: sometimes\n")
    assert "categories[0].autonomy" in message and "'sometimes'" in message


def test_missing_name_and_categories(make_pack: PackFactory) -> None:
    assert "name: is required" in error_of(make_pack, yaml_text="categories:\n  - name: a\n")
    assert "categories: is required" in error_of(make_pack, yaml_text="name: x\n")


def test_invalid_yaml_names_the_line(make_pack: PackFactory) -> None:
    message = error_of(make_pack, yaml_text="name: x\ncategories:\n  - name: [a\n")
    assert "pack.yaml" in message and "not valid YAML" in message and "line" in message


def test_priority_values_are_checked(make_pack: PackFactory) -> None:
    bad = "name: x\ncategories:\n  - name: a\n    priority: critical\n"
    assert "'critical' is not one of" in error_of(make_pack, yaml_text=bad)
    rule = "name: x\ncategories:\n  - name: a\npolicy:\n  priorities:\n    rules:\n      - {if_any: [x], set: p9}\n"
    assert "policy.priorities.rules[0].set" in error_of(make_pack, yaml_text=rule)


def test_threshold_for_unknown_category(make_pack: PackFactory) -> None:
    text = "name: x\ncategories:\n  - name: a\npolicy:\n  thresholds: {b: 0.5}\n"
    assert "'b' is not a category" in error_of(make_pack, yaml_text=text)
    text = "name: x\ncategories:\n  - name: a\npolicy:\n  thresholds: {a: 1.5}\n"
    assert "policy.thresholds.a" in error_of(make_pack, yaml_text=text)


def test_unknown_label_names_the_line(make_pack: PackFactory) -> None:
    message = error_of(make_pack, yaml_text=MINIMAL, kb={},
                       examples=[("first", "a"), ("second", "b"), ("third", "billing_x")])
    assert "examples.csv" in message and "line 4" in message and "'billing_x' is not a category" in message


def test_out_of_scope_rows_are_negatives(make_pack: PackFactory) -> None:
    root = make_pack(yaml_text=MINIMAL, kb={}, examples=[("x", "a"), ("y", "b"), ("weather?", OUT_OF_SCOPE)])
    assert [e.label for e in check_examples(load_pack(root))] == ["a", "b", OUT_OF_SCOPE]


def test_category_without_examples(make_pack: PackFactory) -> None:
    message = error_of(make_pack, yaml_text=MINIMAL, kb={}, examples=[("x", "a")])
    assert "no example for categories ['b']" in message


def test_empty_text_and_missing_column(make_pack: PackFactory) -> None:
    assert "line 3" in error_of(make_pack, yaml_text=MINIMAL, kb={}, examples=[("x", "a"), ("", "b")])
    root = make_pack(yaml_text=MINIMAL, kb={})
    (root / "examples.csv").write_text("body,label\nhello,a\n")
    with pytest.raises(PackError, match="missing column 'text'"):
        load_pack(root).examples()


def test_kb_article_errors(make_pack: PackFactory) -> None:
    root = make_pack(yaml_text=TINY_YAML)
    (root / "kb" / "bad.md").write_text("no front matter here")
    with pytest.raises(PackError, match=r"bad\.md: line 1: must start with front matter"):
        load_pack(root)
    (root / "kb" / "bad.md").write_text("---\nid: KB-X\ntitle: T\ncategories: [nope]\n---\n## Answer\nx\n")
    with pytest.raises(PackError, match=r"bad\.md: front matter, categories: 'nope' is not a category"):
        load_pack(root)
    (root / "kb" / "bad.md").write_text("---\nid: KB-X\ntitle: T\ncategories: [billing]\n---\nNo answer.\n")
    with pytest.raises(PackError, match=r"has no '## Answer' section"):
        load_pack(root)
    (root / "kb" / "bad.md").write_text("---\nid: 12\ntitle: T\n---\n## Answer\nx\n")
    with pytest.raises(PackError, match=r"front matter, id: must be a non-empty string, got the number 12"):
        load_pack(root)
    (root / "kb" / "bad.md").write_text("---\nid: KB-PW-1\ntitle: T\n---\n## Answer\nx\n")
    with pytest.raises(PackError, match=r"'KB-PW-1' is already used"):
        load_pack(root)


def test_missing_pack(tmp_path: object) -> None:
    with pytest.raises(PackError, match="is not a directory"):
        load_pack("/nonexistent/pack")


def test_answer_section_is_extracted(make_pack: PackFactory) -> None:
    pack = load_pack(make_pack())
    article = pack.article("KB-PW-1")
    assert article is not None
    assert article.answer.startswith("Open https://help.example.com/reset")
    assert "Context for agents" not in article.answer
