"""Live modes per scope (global, category:X, action:K), their audited history, and the circuit breaker.

Modes are read from the database for every decision, never cached; what one decision needs is read in
one query (`modes_of`). The breaker demotes a category to
`propose` when reviewers keep overriding it or its writes keep failing; only a person resets it (by
setting the category's mode again).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam
from sqlmodel import Session, col, select

from agent.events import event
from agent.modes import category_scope
from agent.pack import Breaker
from agent.state import MODES, Mode
from service.audit import SqlAudit
from service.store import (
    ApprovalRecord,
    BreakerRecord,
    ControlChange,
    ControlRecord,
    OutboxRecord,
    transaction,
    utcnow,
)

BREAKER_ACTOR = "circuit_breaker"
_MODE_OF = select(ControlRecord.mode).where(ControlRecord.scope == bindparam("scope"))
_MODES_OF = select(ControlRecord.scope, ControlRecord.mode).where(
    col(ControlRecord.scope).in_(bindparam("scopes", expanding=True)))


class ControlError(ValueError):
    """An unknown mode or scope."""


def check_scope(scope: str, categories: list[str] | None = None) -> None:
    kind, _, name = scope.partition(":")
    if scope == "global":
        return
    if kind == "category" and name and (categories is None or name in categories):
        return
    if kind == "action" and name in ("reply", "route", "handoff", "reject"):
        return
    raise ControlError(f"unknown scope '{scope}' (global, category:<name of a category>, "
                       "action:reply|route|handoff|reject)")


class SqlControl:
    """ControlReader on the state database; every change is recorded with who and why."""

    def __init__(self, engine: Engine, default: Mode = "auto", audit: SqlAudit | None = None) -> None:
        self.engine = engine
        self.default = default
        self.audit = audit

    def mode(self, scope: str = "global") -> Mode:
        # A plain read on a pooled connection, no ORM session: it runs several times per ticket.
        with self.engine.connect() as conn:
            found = conn.execute(_MODE_OF, {"scope": scope}).scalar()
        return self._known(scope, found)

    def modes_of(self, scopes: Sequence[str]) -> dict[str, Mode]:
        """Several scopes' modes in one query (a decision reads the global, category and action scopes)."""
        with self.engine.connect() as conn:
            found: dict[str, str] = {scope: mode for scope, mode in conn.execute(_MODES_OF, {"scopes": list(scopes)})}
        return {scope: self._known(scope, found.get(scope)) for scope in scopes}

    def _known(self, scope: str, found: str | None) -> Mode:
        """A stored mode, or the default for a scope nobody has set (global: the configured one)."""
        if found is None or found not in MODES:
            return self.default if scope == "global" else "auto"
        mode: Mode = found
        return mode

    def set_mode(self, mode: str, scope: str = "global", changed_by: str = "cli", reason: str = "") -> None:
        """Change a scope's mode; a person setting a category's mode also resets its breaker."""
        if mode not in MODES:
            raise ControlError(f"unknown mode '{mode}' (one of {', '.join(MODES)})")
        if not changed_by.strip():
            raise ControlError("say who changes the mode (changed_by)")
        with transaction(self.engine) as session:
            row = session.get(ControlRecord, scope)
            old = row.mode if row else None
            if row is None:
                row = ControlRecord(scope=scope, mode=mode, changed_by=changed_by, reason=reason)
            else:
                row.mode, row.changed_by, row.reason, row.changed_at = mode, changed_by, reason, utcnow()
            session.add(row)
            session.add(ControlChange(scope=scope, old_mode=old, new_mode=mode, changed_by=changed_by, reason=reason))
            if scope.startswith("category:") and changed_by != BREAKER_ACTOR:
                breaker = session.get(BreakerRecord, scope.removeprefix("category:"))
                if breaker is not None:
                    session.delete(breaker)
        if self.audit is not None:
            stamp = utcnow().isoformat()
            self.audit.write(f"control-{stamp}", "control", event(
                "control", "mode_changed", scope=scope, old=old, new=mode, by=changed_by, reason=reason))

    def modes(self) -> dict[str, Any]:
        with Session(self.engine) as session:
            rows = session.exec(select(ControlRecord)).all()
            breakers = session.exec(select(BreakerRecord)).all()
        return {
            "global": self.mode("global"),
            "scopes": {r.scope: {"mode": r.mode, "by": r.changed_by, "reason": r.reason,
                                 "at": r.changed_at.isoformat()} for r in rows},
            "breakers": {b.category: {"reason": b.reason, "at": b.tripped_at.isoformat()} for b in breakers},
        }

    def history(self) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.exec(select(ControlChange).order_by(col(ControlChange.id))).all()
        return [{"scope": r.scope, "old": r.old_mode, "new": r.new_mode, "by": r.changed_by, "reason": r.reason,
                 "at": r.changed_at.isoformat()} for r in rows]


@dataclass(frozen=True)
class BreakerReading:
    category: str
    samples: int
    override_rate: float | None
    error_rate: float | None


def read_breaker(engine: Engine, category: str, limits: Breaker) -> BreakerReading:
    """Override and error rates over the category's latest `window` reviews and delivered actions."""
    with Session(engine) as session:
        reviews = session.exec(
            select(ApprovalRecord.verdict).where(ApprovalRecord.category == category,
                                                 ApprovalRecord.status == "answered")
            .order_by(col(ApprovalRecord.answered_at).desc()).limit(limits.window)
        ).all()
        writes = session.exec(
            select(OutboxRecord.run_id, OutboxRecord.status).where(OutboxRecord.category == category)
            .order_by(col(OutboxRecord.id).desc()).limit(limits.window * 4)
        ).all()
    # An action failed when any of its writes was dead-lettered; actions still in flight do not count.
    by_run: dict[str, set[str]] = {}
    for run_id, status in writes:
        by_run.setdefault(run_id, set()).add(status)
    outcomes = [("dead" if "dead" in s else "delivered") for s in by_run.values() if "dead" in s or s == {"delivered"}]
    outcomes = outcomes[: limits.window]
    overrides = [v for v in reviews if v in ("edit", "reject", "reroute")]
    return BreakerReading(
        category=category,
        samples=len(reviews) + len(outcomes),
        override_rate=len(overrides) / len(reviews) if len(reviews) >= limits.min_samples else None,
        error_rate=outcomes.count("dead") / len(outcomes) if len(outcomes) >= limits.min_samples else None,
    )


def check_breaker(control: SqlControl, category: str, limits: Breaker) -> str | None:
    """Trip the category's breaker when a rate passes its limit; returns why it tripped (or None)."""
    with Session(control.engine) as session:
        if session.get(BreakerRecord, category) is not None:
            return None
    reading = read_breaker(control.engine, category, limits)
    why = None
    if reading.override_rate is not None and reading.override_rate > limits.max_override_rate:
        why = f"human override rate {reading.override_rate:.2f} > {limits.max_override_rate}"
    elif reading.error_rate is not None and reading.error_rate > limits.max_error_rate:
        why = f"error rate {reading.error_rate:.2f} > {limits.max_error_rate}"
    if why is None:
        return None
    scope = category_scope(category)
    previous = control.mode(scope)
    with transaction(control.engine) as session:
        session.add(BreakerRecord(category=category, reason=why, previous_mode=previous))
    control.set_mode("propose", scope=scope, changed_by=BREAKER_ACTOR, reason=why)
    return why
