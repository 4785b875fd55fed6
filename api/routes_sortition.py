"""Sortition records, public and read-only: ``GET /v1/sortition``, ``/v1/sortition/{name}``,
``/v1/sortition/{name}/files/{file}``.

The records are the directories given to ``pbcount serve --sortition DIR``, read once at
start and verified there with :func:`engine.sortition.record.verify_record` against the
server's results key (:func:`api.state.sortition_records`). The files served are the bytes
that were verified (held in memory, never re-read), so anyone can download them and run
``pbcount sortition verify``. A record that fails verification is listed and served with
``verified: false`` and its problems, never as if it were valid.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.errors import ApiError, ErrorBody
from api.routes_votes import app_state
from engine.services.sortition import LoadedRecord

router = APIRouter(prefix="/v1/sortition", tags=["public"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "unknown record or file"}}
MEDIA_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json", ".pub": "application/x-pem-file"}

NamePath = Annotated[str, Path(max_length=100, description="record name (its directory's name)")]
FilePath = Annotated[str, Path(max_length=100, description="a file of the record, e.g. panel.csv")]


def _record(request: Request, name: str) -> LoadedRecord:
    records = app_state(request).sortition
    rec = records.get(name)
    if rec is None:
        known = ", ".join(records) or "none"
        raise ApiError(404, "sortition_not_found", f"no sortition record named {name!r} (served: {known})")
    return rec


def record_entry(rec: LoadedRecord) -> dict[str, Any]:
    """One line of ``GET /v1/sortition``: name, size, method, algorithm, seed, verified, problems."""
    s = rec.summary
    return {"name": rec.name, "size": s.size if s else None, "pool_size": s.pool_size if s else None,
            "method": s.method if s else None, "algorithm": s.algorithm if s else None,
            "seed": s.seed if s else None, "verified": rec.verified, "problems": list(rec.problems)}


def record_document(rec: LoadedRecord) -> dict[str, Any]:
    """``GET /v1/sortition/{name}``: the list entry, the file names, and the summary (None when
    the record cannot be read)."""
    return {**record_entry(rec), "files": sorted(rec.files),
            "summary": rec.summary.to_dict() if rec.summary else None}


@router.get("", summary="The sortition records served")
def list_records(request: Request) -> dict[str, Any]:
    """Every record given to ``pbcount serve --sortition``, with whether it verified against the
    server's results key (``verified``; otherwise ``problems`` says why)."""
    return {"records": [record_entry(r) for r in app_state(request).sortition.values()]}


@router.get("/{name}", summary="One sortition record: seed, quotas, panel, probabilities", responses=NOT_FOUND)
def get_record(name: NamePath, request: Request) -> dict[str, Any]:
    """Seed, pool and features SHA-256, each quota with the panel's count, the panel ids and
    the selection probabilities' min / median / max, with ``verified`` and ``problems``
    (a record that did not verify is shown as such, never as valid)."""
    return record_document(_record(request, name))


@router.get("/{name}/files/{file}", summary="A file of a sortition record", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/json": {}},
                             "description": "the file's bytes, as verified at start"}, **NOT_FOUND})
def get_record_file(name: NamePath, file: FilePath, request: Request) -> Response:
    """A record file (pool.csv, features.csv, record.json, probabilities.csv, lottery.csv and
    types.csv or draw_order.csv, panel.csv, manifest.json, results.pub) byte for byte, to re-check the draw
    with ``pbcount sortition verify DIR --key results.pub``."""
    rec = _record(request, name)
    data = rec.files.get(file)
    if data is None:
        raise ApiError(404, "sortition_file_not_found", f"record {name!r} has no file {file!r} "
                       f"(files: {', '.join(sorted(rec.files))})")
    suffix = file[file.rfind("."):] if "." in file else ""
    return Response(data, media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
                    headers={"Content-Disposition": f'attachment; filename="{file}"'})
