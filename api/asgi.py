"""ASGI entry point for several server processes (``pbcount serve --workers N``).

uvicorn starts each worker process by importing :func:`app_from_env`, so the settings of
``pbcount serve`` travel in the environment variable :data:`SETTINGS_ENV` (JSON). Each
worker opens its own store connection pool, key cache and vote writer. What keeps them
consistent lives in the database, not in a process:

* the close barrier: a vote group commits only if the election is open, checked inside
  its transaction (:meth:`engine.storage.store.Store.commit_chunk`, ``require_open``);
* the published results: each process recounts when the audit log shows a newer count or
  publication (:func:`api.state.count_marker`);
* idempotency: ballot keys are unique in the store, whichever process got the vote.

The vote-intake rate limit is a token bucket per process; ``pbcount serve`` gives each
worker ``1/N`` of ``--vote-rate`` and ``--vote-burst`` (the kernel spreads connections
over the workers), so the limit per API key holds for the whole server, approximately.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from api.app import create_app
from api.settings import ApiSettings

SETTINGS_ENV = "PBCOUNT_SERVE_SETTINGS"
_PATHS = {"keys_dir", "bundle_dir", "register_path"}
_PATH_LISTS = {"sortition_dirs"}


def settings_to_env(settings: ApiSettings) -> str:
    """The settings as JSON (paths as strings) for :data:`SETTINGS_ENV`."""
    doc: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name in _PATH_LISTS:
            doc[f.name] = [str(p) for p in value]
        else:
            doc[f.name] = str(value) if isinstance(value, Path) else value
    return json.dumps(doc)


def settings_from_env(text: str | None = None) -> ApiSettings:
    """Inverse of :func:`settings_to_env` (reads :data:`SETTINGS_ENV` when ``text`` is None)."""
    raw = text if text is not None else os.environ.get(SETTINGS_ENV)
    if raw is None:
        raise RuntimeError(f"{SETTINGS_ENV} is not set: start the server with `pbcount serve --workers N`")
    doc = json.loads(raw)
    known = {f.name for f in dataclasses.fields(ApiSettings)}
    kwargs: dict[str, Any] = {k: (Path(v) if k in _PATHS and v is not None else v)
                              for k, v in doc.items() if k in known}
    for k in _PATH_LISTS & set(kwargs):
        kwargs[k] = tuple(Path(v) for v in kwargs[k])
    return ApiSettings(**kwargs)


def app_from_env() -> FastAPI:
    """The app of one worker process (uvicorn ``factory=True``)."""
    return create_app(settings_from_env())
