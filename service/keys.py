"""API keys of the service: random secrets shown once, stored as SHA-256 hashes, each with one role.

A key reads `tk_<id>_<secret>`; the id finds the row, the hash of the whole key proves it. Keys carry 256
bits of randomness, so a fast hash is enough (there is nothing to brute-force, unlike passwords).
Roles nest: admin can do what a reviewer can, a reviewer what an ingest key can.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from service.store import ApiKeyRecord, transaction, utcnow

Role = Literal["ingest", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("ingest", "reviewer", "admin")
PREFIX = "tk_"


class ApiKeyError(ValueError):
    """A key command got bad input (unknown role, unknown key id)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and name (recorded as the actor) and its role."""

    key_id: str
    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return ROLES.index(self.role) >= ROLES.index(needed)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, name: str, role: str) -> str:
        """Make a key and return it: the only time the secret is ever shown."""
        if role not in ROLES:
            raise ApiKeyError(f"unknown role '{role}' (one of {', '.join(ROLES)})")
        if not name.strip():
            raise ApiKeyError("give the key a name (who or what uses it)")
        key_id = secrets.token_hex(6)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        with transaction(self.engine) as session:
            session.add(ApiKeyRecord(id=key_id, name=name.strip(), role=role, secret_hash=_hash(key)))
        return key

    def authenticate(self, key: str) -> Principal | None:
        """The key's principal, or None for an unknown, malformed or revoked key."""
        parts = key.split("_", 2)
        if len(parts) != 3 or f"{parts[0]}_" != PREFIX:
            return None
        with Session(self.engine) as session:
            row = session.get(ApiKeyRecord, parts[1])
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_hash, _hash(key)):
            return None
        return Principal(key_id=row.id, name=row.name, role=row.role)  # type: ignore[arg-type]

    def revoke(self, key_id: str) -> None:
        with transaction(self.engine) as session:
            row = session.get(ApiKeyRecord, key_id)
            if row is None:
                raise ApiKeyError(f"no API key with id '{key_id}'")
            row.revoked_at = row.revoked_at or utcnow()
            session.add(row)

    def list(self) -> list[dict[str, str | None]]:
        with Session(self.engine) as session:
            rows = session.exec(select(ApiKeyRecord).order_by(col(ApiKeyRecord.created_at))).all()
        return [{"id": r.id, "name": r.name, "role": r.role, "created_at": r.created_at.isoformat(),
                 "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in rows]
