"""API keys for the HTTP API: creation, lookup by secret, listing, revocation.

Key text: ``pbk_<key id>_<secret>`` where ``key id`` is 10 random hex digits (public,
shown in listings and in the audit log) and ``secret`` is 32 random bytes in URL-safe
base64. Only ``SHA-256(key text)`` is stored; the text is shown once, at creation. A
fast hash is enough here (unlike passwords) because the secret has 256 bits of entropy:
there is nothing to brute-force. Lookup is by hash (unique index), so no comparison of
secrets happens in Python.

Roles: ``operator`` (vote intake, scan uploads, review) and ``admin`` (everything an
operator can do, plus close, count and publish).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from engine.errors import StoreError
from engine.storage.schema import api_keys
from engine.storage.store import Store, now_iso

ROLES = ("operator", "admin")
KEY_PREFIX = "pbk_"


@dataclass(frozen=True)
class ApiKey:
    """A stored API key (never its text: only the hash is kept): id, role, label, when it was
    created and revoked.
    """

    key_id: str
    role: str
    label: str
    created_at: str
    revoked_at: str | None = None

    @property
    def actor(self) -> str:
        """How the key appears in the audit log: ``role:label (key id)``."""
        return f"{self.role}:{self.label} ({self.key_id})"

    def allows(self, role: str) -> bool:
        """An admin key may do what an operator key may do, not the other way round."""
        return self.revoked_at is None and (self.role == role or self.role == "admin")


def hash_key_text(text: str) -> str:
    """SHA-256 (hex) of a key's text: what the store keeps and compares."""
    return hashlib.sha256(text.encode()).hexdigest()


def new_key_text() -> tuple[str, str]:
    """A fresh ``(key id, key text)``."""
    key_id = secrets.token_hex(5)
    return key_id, f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


class ApiKeyStore:
    """The ``api_keys`` table of a :class:`~engine.storage.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, role: str, label: str, actor: str = "cli") -> tuple[ApiKey, str]:
        """Create a key; returns it and its text (the only time the text is available)."""
        if role not in ROLES:
            raise StoreError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        label = label.strip()
        if not label or len(label) > 200:
            raise StoreError("a key label must be 1 to 200 characters (e.g. the station or team)")
        key_id, text = new_key_text()
        created = now_iso()
        with self.store.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    key_id=key_id, secret_sha256=hash_key_text(text), role=role, label=label,
                    created_at=created,
                )
            )
        key = ApiKey(key_id, role, label, created)
        self.store.append_audit(actor, "apikey_created", {"key_id": key_id, "role": role, "label": label})
        return key, text

    def lookup(self, text: str) -> ApiKey | None:
        """The active key whose text this is, or None (unknown, malformed or revoked)."""
        if not text.startswith(KEY_PREFIX) or len(text) > 200:
            return None
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(api_keys).where(api_keys.c.secret_sha256 == hash_key_text(text))
            ).first()
        if row is None or row.revoked_at is not None:
            return None
        return ApiKey(row.key_id, row.role, row.label, row.created_at, row.revoked_at)

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.id)).all()
        return [ApiKey(r.key_id, r.role, r.label, r.created_at, r.revoked_at) for r in rows]

    def revoke(self, key_id: str, actor: str = "cli") -> None:
        """Revoke active key ``key_id`` (audited as ``apikey_revoked`` by ``actor``); StoreError
        if there is no active key with that id.
        """
        with self.store.engine.begin() as conn:
            res = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now_iso())
            )
        if res.rowcount == 0:
            raise StoreError(f"no active API key with id {key_id!r} (see `pbcount apikey list`)")
        self.store.append_audit(actor, "apikey_revoked", {"key_id": key_id})
