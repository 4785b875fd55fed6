"""Publication: ``POST /v1/publish`` (admin) and the public ``/v1/bundle``,
``/v1/receipts/{id}``, ``/v1/tree-head``, ``/v1/verifier.zip``."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth import RequireAdmin
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.publication import bundle_zip, receipt_proof, tree_head
from api.routes_votes import app_state
from engine.errors import KeyFileError, PbcountError, PendingReviewError
from engine.services.publish import publish_store
from engine.storage.apikey_store import ApiKey
from engine.storage.keyfiles import RESULTS, load_private_key
from engine.verifier.archive import ARCHIVE_NAME, build_verifier_zip

router = APIRouter(prefix="/v1")

NOT_PUBLISHED: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "not published yet / unknown receipt"}}


def _not_published() -> ApiError:
    return ApiError(404, "not_published", "no results have been published yet (POST /v1/publish)")


@router.post("/publish", tags=["admin"], summary="Publish the signed results bundle",
             responses={**ERROR_RESPONSES, 503: {"model": ErrorBody, "description": "no results key"}})
async def publish(
    request: Request, key: ApiKey = RequireAdmin,
    allow_pending: Annotated[bool, Query(description="publish although paper pages are still in review")] = False,
) -> dict[str, Any]:
    """Count, append the new ballot-log segment, sign and write the bundle (same service as
    ``pbcount publish``). Publishing again without any change re-emits the same bundle.
    Refused with 409 ``pending_review`` while paper pages are in review, unless
    ``allow_pending=true``; ``pending_review`` in the answer (and the signed manifest)
    says how many were left."""
    pb = app_state(request)
    try:
        signing_key = load_private_key(pb.settings.keys_dir, RESULTS)
    except KeyFileError as exc:
        raise ApiError(503, "publish_disabled", f"cannot publish: {exc}") from exc
    try:
        report = await run_in_threadpool(functools.partial(publish_store, pb.store, signing_key, pb.bundle_dir,
                                                           actor=key.actor, allow_pending=allow_pending))
    except PendingReviewError as exc:
        raise ApiError(409, "pending_review", str(exc).replace("--allow-pending", "allow_pending=true")) from exc
    except PbcountError as exc:  # e.g. a concurrent publication won the race: publish again
        raise ApiError(409, "publish_failed", f"cannot publish: {exc}") from exc
    await run_in_threadpool(pb.recount)
    return {
        "tree_head": report.head.to_dict(), "new_publication": report.new_publication,
        "appended": report.appended, "withdrawn": report.withdrawn, "counted": report.counted,
        "files": [p.name for p in report.files], "pending_review": report.pending_review,
    }


@router.get("/tree-head", tags=["public"], summary="The latest published Merkle tree head",
            responses=NOT_PUBLISHED)
def get_tree_head(request: Request) -> dict[str, Any]:
    """RFC 6962 tree head over ballots.jsonl of the latest publication, and the SHA-256 of
    the signed manifest.json when the served bundle is that publication's."""
    th = tree_head(app_state(request))
    if th is None:
        raise _not_published()
    return th


@router.get("/bundle", tags=["public"], summary="The signed results bundle (zip)", response_class=Response,
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "zip of the bundle files"}, **NOT_PUBLISHED})
def get_bundle(request: Request) -> Response:
    """The latest signed results bundle as a zip (404 before the first publication)."""
    data = bundle_zip(app_state(request).bundle_dir)
    if data is None:
        raise _not_published()
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="pbcount-bundle.zip"'})


@functools.cache
def _verifier_zip() -> bytes:
    return build_verifier_zip()


@router.get("/verifier.zip", tags=["public"], summary="The stand-alone verifier (zip)", response_class=Response,
            responses={200: {"content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
                             "description": "python pbcount-verifier.zip BUNDLE_DIR --key results.pub"}})
def get_verifier() -> Response:
    """The stand-alone verifier (Python standard library + ``cryptography``), the same archive
    as in the bundle: ``python pbcount-verifier.zip BUNDLE_DIR --key results.pub``."""
    return Response(_verifier_zip(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{ARCHIVE_NAME}"'})


ReceiptPath = Annotated[str, Path(max_length=40, description="receipt id (R… online, P… paper) or the number "
                                  "printed on a paper ballot's stub (N° XXXX-XXXX-XXXX-XXXX-C)")]


@router.get("/receipts/{receipt_id}", tags=["public"], summary="A ballot line and its inclusion proof",
            responses={**NOT_PUBLISHED, 422: ERROR_RESPONSES[422]})
def get_receipt(receipt_id: ReceiptPath, request: Request) -> dict[str, Any]:
    """The published ballot line with this receipt, its leaf index, the RFC 6962 inclusion
    proof (sibling hashes, leaf first) against the latest tree head, and whether it verifies.
    ``status`` is ``found`` or ``withdrawn`` (counted earlier, withdrawn by a later
    publication: the withdraw line is returned)."""
    r = receipt_proof(app_state(request), receipt_id)
    if r["status"] == "invalid":
        raise ApiError(422, "invalid_receipt", r["detail"])
    if r["status"] == "not_published":
        raise _not_published()
    if r["status"] == "not_found":
        raise ApiError(404, "receipt_not_found", f"no published ballot has receipt {r['receipt_id']}")
    return r
