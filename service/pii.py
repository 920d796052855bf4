"""The PII store: raw ticket text (and who sent it), kept apart from the audit chain, with retention.

Erasing a person's data deletes rows here only; the chain holds no raw text, so it stays verifiable.

The graph works on the redacted ticket (`guardrails.pii.redact_ticket`), whose placeholders are a pure
function of the text kept here: `mapping(run_id)` rebuilds the run's placeholder -> value table from the
row, so no second copy of the values exists anywhere. `AddressedReplies` wraps the helpdesk at delivery:
a reply's requester placeholders ("[EMAIL_1]" when that is their address) become their values again,
every other placeholder stays redacted. Once a person's text is erased, their replies go out redacted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session, col, delete, select

from agent.context import Ticketing
from agent.state import Ticket
from guardrails.pii import fill_requester, redact_ticket
from service.store import TEXTS, TicketText, transaction, utcnow

logger = logging.getLogger(__name__)


class PiiStore:
    def __init__(self, engine: Engine, retention_days: int = 90) -> None:
        self.engine = engine
        self.retention = timedelta(days=retention_days)

    def keep(self, ticket: Ticket, run_id: str) -> None:
        with transaction(self.engine) as session:
            self.keep_in(session, ticket, run_id)

    def keep_in(self, session: Session, ticket: Ticket, run_id: str) -> None:
        """Keep a run's ticket as it arrived inside the caller's transaction (with the run's registration)."""
        exists = session.execute(select(TEXTS.c.id).where(TEXTS.c.ticket_id == ticket.id,
                                                          TEXTS.c.run_id == run_id)).first()
        if exists is None:
            now = utcnow()
            session.execute(insert(TEXTS).values(
                ticket_id=ticket.id, run_id=run_id, requester=ticket.requester,
                text=f"{ticket.subject}\n{ticket.text}" if ticket.subject else ticket.text,
                arrival_json=json.dumps({"channel": ticket.channel, "fields": ticket.fields}),
                created_at=now, expires_at=now + self.retention))

    def ticket(self, ticket_id: str, run_id: str, session: Session | None = None) -> Ticket | None:
        """The run's ticket as it arrived (the subject line heads the text), None once erased."""
        query = select(TEXTS.c.text, TEXTS.c.requester, TEXTS.c.arrival_json).where(
            TEXTS.c.ticket_id == ticket_id, TEXTS.c.run_id == run_id)
        if session is not None:
            row = session.execute(query).first()
        else:
            with Session(self.engine) as own:
                row = own.execute(query).first()
        if row is None:
            return None
        arrival = json.loads(row.arrival_json or "{}")
        return Ticket(id=ticket_id, text=row.text, requester=row.requester, channel=arrival.get("channel", "api"),
                      fields=arrival.get("fields", {}))

    def text(self, ticket_id: str) -> str | None:
        with Session(self.engine) as session:
            row = session.exec(select(TicketText).where(TicketText.ticket_id == ticket_id)
                               .order_by(col(TicketText.id).desc())).first()
            return row.text if row else None

    def mapping(self, ticket_id: str, run_id: str) -> tuple[dict[str, str], str | None]:
        """The run's placeholder -> value table and its requester (empty when the text is gone)."""
        with Session(self.engine) as session:
            row = session.exec(select(TicketText).where(TicketText.ticket_id == ticket_id,
                                                        TicketText.run_id == run_id)).first()
        if row is None:
            return {}, None
        return redact_ticket("", row.text, row.requester).mapping, row.requester

    def address_reply(self, ticket_id: str, run_id: str, reply: str) -> str:
        """The approved reply of a run with the requester's own placeholders filled in (delivery time only)."""
        mapping, requester = self.mapping(ticket_id, run_id)
        return fill_requester(reply, mapping, requester)

    def erase(self, ticket_id: str | None = None, requester: str | None = None) -> int:
        """Delete a ticket's or a requester's texts; returns how many rows went."""
        if ticket_id is None and requester is None:
            raise ValueError("name a ticket or a requester to erase")
        with transaction(self.engine) as session:
            column = col(TicketText.ticket_id) if ticket_id else col(TicketText.requester)
            value = ticket_id or requester
            result = session.execute(delete(TicketText).where(column == value))
            return int(getattr(result, "rowcount", 0))

    def purge_expired(self) -> int:
        with transaction(self.engine) as session:
            result = session.execute(delete(TicketText).where(col(TicketText.expires_at) < utcnow()))
            return int(getattr(result, "rowcount", 0))


class AddressedReplies:
    """The helpdesk as the outbox worker sees it: replies addressed to the requester, everything else as is.

    The run is read from the write's idempotency key, which `act` starts with the run id, so each reply
    is filled from its own run's text (a ticket triaged twice has two numberings)."""

    def __init__(self, inner: Ticketing, store: PiiStore) -> None:
        self.inner = inner
        self.store = store

    def __getattr__(self, name: str) -> Any:
        # Whatever else the adapter offers (e.g. a combined fields-and-note `write`, internal only) passes
        # through unchanged: only public replies are addressed.
        return getattr(self.inner, name)

    def set_fields(self, ticket_id: str, fields: Mapping[str, str | list[str]], *, idempotency_key: str,
                   baseline: Mapping[str, Any] | None = None) -> None:
        self.inner.set_fields(ticket_id, fields, idempotency_key=idempotency_key, baseline=baseline)

    def add_note(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        self.inner.add_note(ticket_id, body, idempotency_key=idempotency_key)  # internal: stays redacted

    def add_reply(self, ticket_id: str, body: str, *, idempotency_key: str) -> None:
        run_id = idempotency_key.split(":", 1)[0]
        addressed = self.store.address_reply(ticket_id, run_id, body)
        if addressed == body and "[" in body:
            logger.info("reply of run %s delivered without requester values (none in it, or text erased)", run_id)
        self.inner.add_reply(ticket_id, addressed, idempotency_key=idempotency_key)
