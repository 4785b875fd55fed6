"""The public results page (``/``) and the receipt check (``/receipt``), HTML."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Annotated

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.i18n import pick_lang
from api.page import render_receipt_page, render_results_page
from api.publication import check_receipt, published_fairness, tree_head_facts
from api.routes_sortition import record_document
from api.routes_votes import app_state
from engine.verifier.manifest import raw_key

router = APIRouter(tags=["page"])


@functools.lru_cache(maxsize=4)
def _fingerprint(path: Path, mtime_ns: int) -> str | None:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            return None
        raw = raw_key(key)
    except (OSError, ValueError, TypeError):
        return None
    return hashlib.sha256(raw).hexdigest()[:16]


def results_key_fingerprint(bundle_dir: Path, keys_dir: Path) -> str | None:
    """The results key as ``python -m engine.verifier`` prints it (SHA-256 of the raw
    Ed25519 public key, first 16 hex digits): from the bundle's results.pub, else the key
    directory's; None when neither is readable."""
    for p in (bundle_dir / "results.pub", keys_dir / "results.pub"):
        try:
            st = p.stat()
        except OSError:
            continue
        fp = _fingerprint(p, st.st_mtime_ns)
        if fp:
            return fp
    return None

LangQuery = Annotated[str | None, Query(max_length=5, description="fr or en")]


@router.get("/", response_class=HTMLResponse, summary="Public results page (HTML)")
def results_page(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """The public results page (HTML), in ``lang`` or the browser's language."""
    pb = app_state(request)
    chosen = pick_lang(lang, request.headers.get("accept-language"), pb.settings.default_lang)
    pc = pb.latest_count()
    pub = tree_head_facts(pb)
    if pub is not None:
        pub = {**pub, "key_fingerprint": results_key_fingerprint(pb.bundle_dir, pb.settings.keys_dir),
               "fairness": published_fairness(pb)}
    records = [record_document(r) for r in pb.sortition.values()]
    base = pb.settings.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")
    html = render_results_page(pc.document if pc else None, pub, chosen, pb.election.name, records, base)
    return HTMLResponse(html, headers={"Content-Language": chosen})


@router.get("/receipt", response_class=HTMLResponse, summary="Receipt check page (HTML)")
async def receipt_page(
    request: Request,
    id: Annotated[str, Query(max_length=40, description="receipt id")] = "",  # noqa: A002
    lang: LangQuery = None,
) -> HTMLResponse:
    """The receipt check page (HTML): whether receipt ``id`` is counted, with a proof the
    browser checks itself.
    """
    pb = app_state(request)
    chosen = pick_lang(lang, request.headers.get("accept-language"), pb.settings.default_lang)
    check = await run_in_threadpool(check_receipt, pb, id)
    html = render_receipt_page(check, chosen, pb.election.name)
    status = 200 if check["status"] in ("found", "withdrawn", "not_published") else 404
    if check["status"] == "invalid":
        status = 422
    return HTMLResponse(html, status_code=status, headers={"Content-Language": chosen})
