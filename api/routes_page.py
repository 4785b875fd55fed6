"""The public results page (``/``) and the receipt check (``/receipt``), HTML."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from api.i18n import pick_lang
from api.page import render_receipt_page, render_results_page
from api.publication import check_receipt, tree_head_facts
from api.routes_votes import app_state

router = APIRouter(tags=["page"])

LangQuery = Annotated[str | None, Query(max_length=5, description="fr or en")]


@router.get("/", response_class=HTMLResponse, summary="Public results page (HTML)")
def results_page(request: Request, lang: LangQuery = None) -> HTMLResponse:
    pb = app_state(request)
    chosen = pick_lang(lang, request.headers.get("accept-language"), pb.settings.default_lang)
    pc = pb.latest_count()
    html = render_results_page(pc.document if pc else None, tree_head_facts(pb), chosen, pb.election.name)
    return HTMLResponse(html, headers={"Content-Language": chosen})


@router.get("/receipt", response_class=HTMLResponse, summary="Receipt check page (HTML)")
async def receipt_page(
    request: Request,
    id: Annotated[str, Query(max_length=40, description="receipt id")] = "",  # noqa: A002
    lang: LangQuery = None,
) -> HTMLResponse:
    pb = app_state(request)
    chosen = pick_lang(lang, request.headers.get("accept-language"), pb.settings.default_lang)
    check = await run_in_threadpool(check_receipt, pb, id)
    html = render_receipt_page(check, chosen, pb.election.name)
    status = 200 if check["status"] in ("found", "withdrawn", "not_published") else 404
    if check["status"] == "invalid":
        status = 422
    return HTMLResponse(html, status_code=status, headers={"Content-Language": chosen})
