"""The FastAPI application factory.

``create_app(settings)`` opens the store named by the settings (or uses ``store``),
loads the frozen election and the key directory, and mounts the routers:

* ``/v1/votes``, ``/v1/votes:batch`` — vote intake (operator);
* ``/v1/scans``, ``/v1/review`` — paper scans and adjudication (operator);
* ``/v1/election/close``, ``/v1/count``, ``/v1/publish`` — admin actions;
* ``/v1/results`` (+ CSVs), ``/v1/bundle``, ``/v1/receipts/{id}``, ``/v1/tree-head`` — public;
* ``/v1/sortition`` (+ ``/{name}``, ``/{name}/files/{file}``) — signed sortition records, public;
* ``/`` and ``/receipt`` — the public results page (HTML, French and English).

The OpenAPI schema is at ``/openapi.json`` (a self-contained reference page at ``/docs``).
Responses over 1 KiB are gzip-compressed when the client accepts it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from api import routes_admin, routes_bundle, routes_page, routes_results, routes_scans, routes_sortition, routes_votes
from api.docs_page import install_docs
from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.settings import ApiSettings
from api.state import AppState
from engine.storage.store import Store

API_VERSION = "1.0.0"


def create_app(settings: ApiSettings | None = None, store: Store | None = None) -> FastAPI:
    """The FastAPI application: opens the state (``store``, else ``settings.db_url``), mounts
    every router, the error handlers, the docs page, the body-size limit and gzip; its lifespan
    starts the background writer, warms the caches and stops the writer.
    """
    settings = settings or ApiSettings()
    pb = AppState.open(settings, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pb.writer.start()
        # warm the caches (a recount of a counted store, the published log) so that the
        # first visitor of the page does not wait for them
        threading.Thread(target=pb.warm_up, name="pbcount-warm-up", daemon=True).start()
        yield
        pb.shutdown()

    app = FastAPI(
        title="pbcount API",
        version=API_VERSION,
        description=(
            "Participatory-budgeting count: online vote intake, paper scan uploads, "
            "adjudication, admin actions and public, verifiable results. "
            "Errors: `{\"error\": {\"code\", \"message\", \"details\"}}`. See docs/api.md."
        ),
        lifespan=lifespan,
        docs_url=None,  # the CDN-loaded Swagger UI fails offline: api/docs_page.py instead
        redoc_url=None,
    )
    app.state.pb = pb
    install_error_handlers(app)
    for module in (routes_votes, routes_scans, routes_admin, routes_bundle, routes_results, routes_sortition,
                   routes_page):
        app.include_router(module.router)
    install_docs(app)
    app.add_middleware(BodySizeLimit, limit_for=settings.body_limit)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    return app
