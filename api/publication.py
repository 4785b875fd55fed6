"""The published bundle as the API sees it: tree head, manifest hash, receipt proofs.

Adapter over the bundle engine (``engine.bundle`` / ``engine.merkle``); until a bundle is
published every function reports ``not_published``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.state import AppState

RECEIPT_RE = re.compile(r"^[RP][0-9A-HJKMNP-TV-Z]{15}$")


def normalise_receipt(text: str) -> str | None:
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    return cleaned if RECEIPT_RE.match(cleaned) else None


def tree_head_facts(pb: AppState) -> dict[str, Any] | None:
    return None


def check_receipt(pb: AppState, receipt_text: str) -> dict[str, Any]:
    rid = normalise_receipt(receipt_text)
    if rid is None:
        return {"receipt_id": receipt_text[:40], "status": "invalid"}
    return {"receipt_id": rid, "status": "not_published"}
