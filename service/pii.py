"""The PII store: raw ticket text (and who sent it), kept apart from the audit chain, with retention.

Erasing a person's data deletes rows here only; the chain holds no raw text, so it stays verifiable.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from service.store import TicketText, transaction, utcnow


class PiiStore:
    def __init__(self, engine: Engine, retention_days: int = 90) -> None:
        self.engine = engine
        self.retention = timedelta(days=retention_days)

    def keep(self, ticket_id: str, run_id: str, text: str, requester: str | None) -> None:
        with transaction(self.engine) as session:
            exists = session.exec(select(TicketText.id).where(TicketText.ticket_id == ticket_id,
                                                              TicketText.run_id == run_id)).first()
            if exists is None:
                session.add(TicketText(ticket_id=ticket_id, run_id=run_id, requester=requester, text=text,
                                       expires_at=utcnow() + self.retention))

    def text(self, ticket_id: str) -> str | None:
        with Session(self.engine) as session:
            row = session.exec(select(TicketText).where(TicketText.ticket_id == ticket_id)
                               .order_by(col(TicketText.id).desc())).first()
            return row.text if row else None

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
