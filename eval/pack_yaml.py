"""Minimal text edits of pack.yaml: new thresholds and autonomy, every other byte (comments, order) kept.

A pack.yaml is written by people and carries their comments, so it is never re-serialised: the YAML node
tree gives the exact spans to replace, and the edited text is parsed again to prove it says what we meant.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DEMOTED_MARK = "# calibrate: propose, was auto"
"""Trailing comment on an autonomy that `triage calibrate` lowered, so a later run may raise it again."""


class PackEditError(ValueError):
    """pack.yaml has a shape these edits do not handle (the message says what to change by hand)."""


def _offsets(text: str) -> list[int]:
    """Character offset of each line start (yaml marks give line/column)."""
    starts, total = [], 0
    for line in text.splitlines(keepends=True):
        starts.append(total)
        total += len(line)
    starts.append(total)
    return starts


def _child(node: yaml.Node | None, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return k, v
    return None


def _line_end(text: str, index: int) -> int:
    end = text.find("\n", index)
    return len(text) if end < 0 else end


def set_thresholds(path: Path, text: str, thresholds: dict[str, float], note: str) -> str:
    """`policy.thresholds` replaced by `thresholds` in block style, with `note` as a comment above it."""
    root = yaml.compose(text)
    lines = _offsets(text)
    body = "".join(f"{{indent}}  {name}: {value:.4f}\n" for name, value in thresholds.items())
    policy = _child(root, "policy")
    if policy is None:
        block = f"policy:\n  # {note}\n  thresholds:\n" + body.replace("{indent}", "  ")
        return text + ("" if text.endswith("\n") else "\n") + block
    _, policy_node = policy
    if not isinstance(policy_node, yaml.MappingNode) or policy_node.flow_style:
        raise PackEditError(f"{path}: policy is written as a flow mapping ({{...}}); write it as an indented block "
                            "so the thresholds can be added without rewriting it")
    existing = _child(policy_node, "thresholds")
    if existing is not None:
        key, value = existing
        indent = " " * key.start_mark.column
        start = lines[key.start_mark.line]
        # A block mapping's end mark sits on the next key: end after the line of its last value instead.
        last = value.value[-1][1] if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value \
            else value
        end = min(_line_end(text, last.end_mark.index) + 1, len(text))
        start = _drop_old_note(text, lines, key.start_mark.line, start)
    else:
        first_key = policy_node.value[0][0]
        indent = " " * first_key.start_mark.column
        start = end = lines[first_key.start_mark.line]
    block = f"{indent}# {note}\n{indent}thresholds:" + ("\n" + body.replace("{indent}", indent) if thresholds
                                                         else " {}\n")
    return text[:start] + block + text[end:]


def _drop_old_note(text: str, lines: list[int], key_line: int, start: int) -> int:
    """Include a previous calibrate note (the comment line right above `thresholds:`) in the replaced span."""
    if key_line == 0:
        return start
    previous = text[lines[key_line - 1]:lines[key_line]].strip()
    return lines[key_line - 1] if previous.startswith("# triage calibrate") else start


def demoted_categories(text: str) -> set[str]:
    """Categories whose autonomy an earlier calibrate lowered to propose."""
    root = yaml.compose(text)
    found: set[str] = set()
    cats = _child(root, "categories")
    if cats is None or not isinstance(cats[1], yaml.SequenceNode):
        return found
    line_texts = text.splitlines()
    for item in cats[1].value:
        name, autonomy = _child(item, "name"), _child(item, "autonomy")
        if name is None or autonomy is None:
            continue
        if DEMOTED_MARK in line_texts[autonomy[1].start_mark.line]:
            found.add(str(name[1].value))
    return found


def set_autonomy(path: Path, text: str, changes: dict[str, str]) -> str:
    """Change categories' autonomy: to propose (marked as calibrate's), or back to auto (mark removed)."""
    if not changes:
        return text
    root = yaml.compose(text)
    cats = _child(root, "categories")
    assert cats is not None
    edits: list[tuple[int, int, str]] = []
    for item in cats[1].value:
        name = _child(item, "name")
        if name is None or name[1].value not in changes:
            continue
        new = changes[str(name[1].value)]
        autonomy = _child(item, "autonomy")
        if autonomy is None:
            if item.flow_style:
                raise PackEditError(f"{path}: category '{name[1].value}' is a flow mapping without autonomy; "
                                    "add `autonomy: auto` to it by hand")
            key = name[0]
            insert_at = _line_end(text, name[1].end_mark.index) + 1
            mark = f"  {DEMOTED_MARK}" if new == "propose" else ""
            edits.append((insert_at, insert_at, f"{' ' * key.start_mark.column}autonomy: {new}{mark}\n"))
            continue
        value = autonomy[1]
        edits.append((value.start_mark.index, value.end_mark.index, new))
        line_end = _line_end(text, value.end_mark.index)
        tail = text[value.end_mark.index:line_end]
        if new == "propose" and DEMOTED_MARK not in tail and "#" not in tail:
            edits.append((line_end, line_end, f"  {DEMOTED_MARK}"))
        elif new == "auto" and DEMOTED_MARK in tail:
            mark_at = value.end_mark.index + tail.index(DEMOTED_MARK)
            spaces = len(text[:mark_at]) - len(text[:mark_at].rstrip(" "))
            edits.append((mark_at - spaces, mark_at + len(DEMOTED_MARK), ""))
    for start, end, replacement in sorted(edits, reverse=True):  # from the end: earlier offsets stay valid
        text = text[:start] + replacement + text[end:]
    return text
