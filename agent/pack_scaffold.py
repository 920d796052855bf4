"""`triage pack new NAME`: a valid, trainable pack to start a new narrow agent from.

The scaffold is deliberately small and says what to replace: two placeholder categories (or the ones
given), a few examples each, one KB article, a short eval set and a README with the next steps. It passes
`load_pack` and trains as it is, so every edit can be checked with `triage train` straight away.

Errors:
    ScaffoldError       bad name or category names, or the directory exists (the message says which)
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from agent.pack import OUT_OF_SCOPE, load_pack

_SLUG = re.compile(r"[a-z][a-z0-9_]{0,47}")


class ScaffoldError(ValueError):
    """The pack cannot be created as asked."""


def _check_names(name: str, categories: list[str]) -> None:
    if not _SLUG.fullmatch(name):
        raise ScaffoldError(f"pack name '{name}': use lower-case letters, digits and '_' (start with a letter)")
    if not categories:
        raise ScaffoldError("--categories: give at least one category name")
    for category in categories:
        if not _SLUG.fullmatch(category) or category == OUT_OF_SCOPE:
            raise ScaffoldError(f"--categories: '{category}' is not a usable category name (lower-case letters, "
                                f"digits and '_', starting with a letter; '{OUT_OF_SCOPE}' is reserved)")
    if len(set(categories)) != len(categories):
        raise ScaffoldError("--categories: a category is named twice")


def _pack_yaml(name: str, categories: list[str]) -> str:
    cats = "".join(
        f"  - name: {c}\n"
        f'    description: "REPLACE: what tickets of {c} are about (the model does not read this; people do)"\n'
        f"    queue: {c}          # where the ticket is routed in your helpdesk\n"
        f"    autonomy: propose   # auto | propose | never: start with propose, raise after `triage calibrate`\n"
        for c in categories
    )
    return f"""# The {name} pack: everything domain-specific about this agent lives in this directory.
# Reference: docs/forking.md. Validate and fit with `triage train --pack <this directory>`.
name: {name}
version: "0.1.0"
description: "REPLACE: one line saying which tickets this agent triages, for whom"
# The accountable person. Without an owner the agent never acts alone (every action waits for a reviewer).
owner: {{name: "REPLACE Owner Name", email: "owner@example.com"}}
languages: [en]
categories:
{cats}policy:
  default_threshold: 0.6       # confidence needed to act alone where no per-category threshold is set
  thresholds: {{}}               # written by `triage calibrate --pack <dir> --target-precision 0.98`
  human_queue: triage          # where escalated tickets go
  out_of_scope: escalate       # or reject
  url_allowlist: ["https://help.example.com"]   # the only links a reply may contain
  priorities:
    values: [low, normal, high, urgent]
    default: normal
    rules:
      - {{if_any: ["urgent", "asap"], set: high}}
# The numbers that count as success; `triage eval` exits 1 naming any it misses.
slo: {{min_accuracy: 0.8, min_auto_precision: 0.95, max_p95_latency_ms: 60}}
"""


def _examples(categories: list[str]) -> list[tuple[str, str]]:
    rows = []
    for c in categories:
        words = c.replace("_", " ")
        rows += [(f"REPLACE: a real ticket about {words}", c),
                 (f"REPLACE: another way customers describe a {words} problem", c),
                 (f"REPLACE: a short {words} question", c)]
    rows += [("what is the weather like tomorrow", OUT_OF_SCOPE),
             ("can you recommend a good restaurant nearby", OUT_OF_SCOPE),
             ("who won the football match last night", OUT_OF_SCOPE)]
    return rows


def _article(first: str) -> str:
    return f"""---
id: KB-{first.upper().replace("_", "-")}-1
title: "REPLACE: the question this article answers"
categories: [{first}]
---
Background for reviewers: when this article applies, and when it does not.

## Answer
REPLACE: the customer-facing answer a reply is composed from. Links must be on the pack's url_allowlist,
for example https://help.example.com/start.
"""


def _readme(name: str, root: Path) -> str:
    return f"""# {name}

A triage pack scaffolded by `triage pack new`. It is valid and trains as it is; every `REPLACE` marks
what to write next. The full guide is docs/forking.md.

Next steps:
1. `pack.yaml`: the description, the owner (the person accountable for the agent's decisions), your
   categories with their queues and autonomy, the URL allowlist and the SLOs you will be held to.
2. `examples.csv`: real, varied tickets per category (text,label); 30+ per category is a good start,
   one is enough to run. Label tickets you do not handle `out_of_scope`.
3. `kb/*.md`: one article per answerable question, front matter (id, title, categories) and a
   `## Answer` section. A pack with an empty kb/ routes without replying.
4. `eval.jsonl`: cases written by someone who has not seen examples.csv (text, label, expected_action,
   expected_article, is_attack).
5. Fit, measure, calibrate:

```bash
triage train --pack {root}
triage eval --pack {root} --data {root}/eval.jsonl --out eval-out/{name}
triage calibrate --pack {root} --target-precision 0.98
```
"""


def _eval_cases(categories: list[str]) -> list[dict[str, str]]:
    cases = [{"text": f"REPLACE: an eval ticket about {c.replace('_', ' ')}", "label": c,
              "expected_action": "escalate", "is_attack": "0"} for c in categories]
    cases.append({"text": "what time does the cinema open tonight", "label": OUT_OF_SCOPE,
                  "expected_action": "escalate", "is_attack": "0"})
    return cases


def scaffold_pack(name: str, parent: Path, categories: list[str] | None = None) -> Path:
    """Write a new pack directory `parent/name` and prove it loads; returns its path."""
    cats = categories or ["example_question", "example_problem"]
    _check_names(name, cats)
    root = parent / name
    if root.exists():
        raise ScaffoldError(f"{root}: already exists (choose another name or --dir)")
    (root / "kb").mkdir(parents=True)
    (root / "pack.yaml").write_text(_pack_yaml(name, cats), encoding="utf-8")
    with (root / "examples.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(_examples(cats))
    (root / "kb" / f"{cats[0]}.md").write_text(_article(cats[0]), encoding="utf-8")
    (root / "eval.jsonl").write_text("".join(json.dumps(c) + "\n" for c in _eval_cases(cats)), encoding="utf-8")
    (root / "README.md").write_text(_readme(name, root), encoding="utf-8")
    load_pack(root)  # the scaffold must be valid as written
    return root
