"""``pbcount serve`` (the HTTP API and public page) and ``pbcount apikey`` (API keys)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from engine.errors import StoreError
from engine.formats.election_definition import load_election
from engine.storage.apikey_store import ROLES, ApiKeyStore
from engine.storage.store import Store
from pbcount.console import DbOption, KeysOption, console, default_keys_dir, errors_as_messages, fail

apikey_app = typer.Typer(help="API keys for the HTTP API (operator, admin).", no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    role: Annotated[str, typer.Option("--role", help="operator (votes, scans, review) or admin (+ close, "
                                                      "count, publish)")],
    label: Annotated[str, typer.Option("--label", help="Who holds the key (station, team)")] = "",
    db: DbOption = None,
) -> None:
    """Create a key and print it once; only its SHA-256 is stored."""
    if role not in ROLES:
        fail(f"--role must be one of {', '.join(ROLES)}, got {role!r}")
    with errors_as_messages():
        store = Store.open(db)
        key, text = ApiKeyStore(store).create(role, label or f"{role} key", actor=f"cli:{os.environ.get('USER', '?')}")
    console.print(f"created {key.role} key {key.key_id} ({key.label}); store it now, it is not shown again:",
                  highlight=False)
    print(text)


@apikey_app.command("list")
def apikey_list(db: DbOption = None) -> None:
    """List keys (id, role, label, created, revoked); secrets are never shown."""
    with errors_as_messages():
        keys = ApiKeyStore(Store.open(db)).list()
    for k in keys:
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        console.print(f"{k.key_id}  {k.role:<8}  {k.label}  created {k.created_at}  {state}", highlight=False)
    console.print(f"{len(keys)} keys")


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[str, typer.Argument(help="The key id (see `pbcount apikey list`)")],
                  db: DbOption = None) -> None:
    """Revoke a key (effective within 5 s on running servers)."""
    with errors_as_messages():
        ApiKeyStore(Store.open(db)).revoke(key_id, actor=f"cli:{os.environ.get('USER', '?')}")
    console.print(f"revoked {key_id}")


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    db: DbOption = None,
    keys: KeysOption = default_keys_dir(),
    election: Annotated[Path | None, typer.Option("--election", "-e", help="Election definition to freeze "
                                                                         "in an empty store")] = None,
    bundle_dir: Annotated[Path | None, typer.Option("--bundle-dir", help="Where POST /v1/publish writes the "
                                                                       "bundle (default: bundle/ next to "
                                                                       "the working directory)")] = None,
    vote_rate: Annotated[float, typer.Option("--vote-rate", help="Votes/s per API key (token bucket)")] = 3000.0,
    vote_burst: Annotated[int, typer.Option("--vote-burst", help="Burst above the rate")] = 6000,
    lang: Annotated[str, typer.Option("--lang", help="Default page language: fr or en")] = "fr",
    log_level: Annotated[str, typer.Option("--log-level")] = "info",
    workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                         help="Server processes (more votes/s on several cores; each gets "
                                              "1/N of the vote rate limit)")] = 1,
    sortition: Annotated[list[Path] | None, typer.Option(
        "--sortition", envvar="PBCOUNT_SORTITION",
        help="A signed sortition record directory (`pbcount sortition draw --out`) to serve at /v1/sortition "
             "and on the page, verified at start with the results key; repeatable ($PBCOUNT_SORTITION: "
             "space-separated)")] = None,
) -> None:
    """Serve the HTTP API (/v1/…, OpenAPI at /openapi.json) and the public results page (/)."""
    import uvicorn

    from api import ApiSettings, create_app
    from api.asgi import SETTINGS_ENV, settings_to_env

    with errors_as_messages():
        store = Store.open(db)
        if election is not None:
            store.freeze_election(load_election(election))
        try:
            store.election()
        except StoreError as exc:
            fail(f"{exc} — or pass --election FILE to freeze one")
        settings = ApiSettings(db_url=db, keys_dir=keys.resolve(),
                               bundle_dir=bundle_dir.resolve() if bundle_dir else None,
                               vote_rate=vote_rate / workers, vote_burst=max(1, vote_burst // workers),
                               default_lang=lang, sortition_dirs=tuple(p.resolve() for p in sortition or ()))
        app = create_app(settings, store=store)
    if app.state.pb.intake_problem:
        console.print(f"[yellow]{app.state.pb.intake_problem}[/] (public pages still served)", highlight=False)
    for rec in app.state.pb.sortition.values():
        if rec.verified:
            console.print(f"sortition record {rec.name}: [green]verified[/]", highlight=False)
        else:
            console.print(f"[yellow]sortition record {rec.name}: NOT verified[/] (served with its problems): "
                          + "; ".join(rec.problems), highlight=False)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    procs = f"{workers} processes, " if workers > 1 else ""
    console.print(f"serving on [bold]http://{shown}:{port}/[/] ({procs}API docs /docs, schema /openapi.json); "
                  "Ctrl-C to stop", highlight=False)
    access_log = log_level == "debug"
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=access_log)
        return
    # several processes: each worker builds its own app from the same settings (api/asgi.py)
    app.state.pb.shutdown()
    store.close()
    os.environ[SETTINGS_ENV] = settings_to_env(settings)
    uvicorn.run("api.asgi:app_from_env", factory=True, workers=workers, host=host, port=port,
                log_level=log_level, access_log=access_log)


def register(app: typer.Typer) -> None:
    """Add the commands of ``pbcount/commands/serve.py`` to the root ``app`` (see pbcount/cli.py)."""
    app.command("serve")(serve)
    app.add_typer(apikey_app, name="apikey")
