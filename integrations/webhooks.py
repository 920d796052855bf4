"""Verifiers for inbound webhooks that every adapter can reuse.

- Standard Webhooks (standardwebhooks.com): headers `webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` (several, space
  separated, during a secret rotation); the timestamp must be within a window, so a captured request
  cannot be replayed later. Used for the local helpdesk and for RT Scrips we write ourselves.
- Shared token: for systems that sign nothing (Freshdesk, ServiceNow), a long random token in a header,
  compared in constant time.
- Plain HMAC of the body (hex or base64) under a named header: Jira's `X-Hub-Signature: sha256=...`.

Everything here raises WebhookRejected and never says which part failed beyond what an operator needs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from integrations.contract import WebhookRejected

DEFAULT_TOLERANCE_S = 300


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its casing."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _secret_bytes(secret: str) -> bytes:
    """Standard Webhooks secrets are `whsec_` + base64; anything else is used as raw text."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error as exc:
            raise ValueError("webhook secret starts with whsec_ but is not valid base64") from exc
    return secret.encode()


def sign_standard(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value a sender computes (also used by tests and our RT Scrip)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard(headers: Mapping[str, str], body: bytes, secrets: list[str], *,
                    tolerance_s: int = DEFAULT_TOLERANCE_S, now: Callable[[], float] = time.time) -> str:
    """Verify a Standard Webhooks request against any of the secrets; returns its `webhook-id`."""
    msg_id = header(headers, "webhook-id")
    stamp = header(headers, "webhook-timestamp")
    signatures = header(headers, "webhook-signature")
    if not msg_id or not stamp or not signatures:
        raise WebhookRejected("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise WebhookRejected("webhook-timestamp is not a Unix time in seconds") from exc
    if abs(now() - timestamp) > tolerance_s:
        raise WebhookRejected(f"webhook-timestamp is outside the {tolerance_s} s window")
    offered = [part.split(",", 1)[1] for part in signatures.split() if part.startswith("v1,")]
    for secret in secrets:
        expected = sign_standard(secret, msg_id, timestamp, body).split(",", 1)[1]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return msg_id
    raise WebhookRejected("webhook signature does not match")


def verify_token(headers: Mapping[str, str], header_name: str, tokens: list[str]) -> None:
    """A shared secret token in a header (or `Bearer <token>` in Authorization)."""
    value = header(headers, header_name) or ""
    value = value.removeprefix("Bearer ").strip()
    if not value or not any(hmac.compare_digest(value.encode(), token.encode()) for token in tokens if token):
        raise WebhookRejected(f"missing or wrong token in {header_name}")


def verify_body_hmac(headers: Mapping[str, str], body: bytes, header_name: str, secret: str, *,
                     prefix: str = "", encoding: str = "hex", signed_prefix: bytes = b"") -> None:
    """HMAC-SHA256 over `signed_prefix + body`, sent as hex or base64 under `header_name` after `prefix`."""
    value = header(headers, header_name)
    if not value or not value.startswith(prefix):
        raise WebhookRejected(f"missing or malformed {header_name} header")
    digest = hmac.new(secret.encode(), signed_prefix + body, hashlib.sha256).digest()
    expected = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    if not hmac.compare_digest(expected, value.removeprefix(prefix).strip()):
        raise WebhookRejected(f"{header_name} does not match")
