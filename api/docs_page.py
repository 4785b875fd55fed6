"""``/docs``: a self-contained API reference page rendered from the OpenAPI schema.

FastAPI's default Swagger UI loads its JavaScript and CSS from a public CDN, which fails on
an offline counting network; this page has no external reference at all (no script, no
stylesheet link): one section per operation (method, path, summary, description,
parameters, responses) and a link to the machine-readable ``/openapi.json``.

``/docs/try`` is Swagger UI with "Try it out", its JavaScript and CSS served from this server
(``/docs/static/``) out of the maintained ``fastapi-offline`` package, which ships the Swagger
UI distribution: nothing is fetched from the internet.
"""

from __future__ import annotations

import importlib.util
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_CSS = ("body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:0 1rem;color:#1b1f24}"
            "code,.path{font-family:ui-monospace,monospace;overflow-wrap:anywhere}"
            ".op{border:1px solid #d0d7de;border-radius:.4rem;padding:.3rem .8rem;margin:.6rem 0}"
            ".m{font-weight:700;margin-right:.5rem;text-transform:uppercase}"
            "table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:.2rem .4rem;text-align:left}")


def render_docs(schema: dict[str, Any]) -> str:
    """The whole reference as one HTML page, from an OpenAPI document."""
    info = schema.get("info", {})
    ops = []
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            params = "".join(
                f'<tr><td><code>{escape(p["name"])}</code></td><td>{escape(p.get("in", ""))}</td>'
                f'<td>{"yes" if p.get("required") else "no"}</td><td>{escape(p.get("description", ""))}</td></tr>'
                for p in op.get("parameters", []))
            ptable = (f"<table><tr><th>parameter</th><th>in</th><th>required</th><th>description</th></tr>"
                      f"{params}</table>" if params else "")
            body = " (request body: JSON)" if "requestBody" in op else ""
            resp = ", ".join(f"{escape(code)} {escape(r.get('description', ''))}"
                             for code, r in op.get("responses", {}).items())
            ops.append(f'<section class="op"><h3><span class="m">{escape(method)}</span>'
                       f'<span class="path">{escape(path)}</span></h3><p>{escape(op.get("summary", ""))}{body}</p>'
                       f'<p>{escape(op.get("description", ""))}</p>{ptable}<p>responses: {resp}</p></section>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(info.get("title", "API"))}</title>'
            f'<style>{DOCS_CSS}</style></head><body><h1>{escape(info.get("title", "API"))} '
            f'{escape(info.get("version", ""))}</h1><p>{escape(info.get("description", ""))}</p>'
            f'<p>Machine-readable schema: <a href="/openapi.json">/openapi.json</a>; try the calls in '
            f'<a href="/docs/try">Swagger UI</a> (served locally).</p>{"".join(ops)}</body></html>')


def install_docs(app: FastAPI) -> None:
    """Serve :func:`render_docs` at ``/docs`` (create the app with ``docs_url=None``)."""

    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        return HTMLResponse(render_docs(request.app.openapi()))

    static = swagger_static_dir()
    if static is None:  # the package is a dependency; without it only the reference page is served
        return
    app.mount("/docs/static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs/try", include_in_schema=False, response_class=HTMLResponse)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="pbcount API: try it out",
                                   swagger_js_url="/docs/static/swagger-ui-bundle.js",
                                   swagger_css_url="/docs/static/swagger-ui.css",
                                   swagger_favicon_url="/docs/static/favicon.png",
                                   swagger_ui_parameters={"tryItOutEnabled": True})


def swagger_static_dir() -> Path | None:
    """The Swagger UI files shipped by ``fastapi-offline`` (None when it is not installed)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or spec.origin is None:
        return None
    d = Path(spec.origin).parent / "static"
    return d if (d / "swagger-ui-bundle.js").exists() else None
