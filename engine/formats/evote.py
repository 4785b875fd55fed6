"""The e-vote line format (JSON Lines), one vote per line, UTF-8::

    {"token": "PB1-…", "cast_at": "2026-05-03T10:15:00Z",
     "selections": {"paris": ["P012", "P101"], "d11": ["D11-004"]}}

* ``token`` (string, required): the voter's token text.
* ``cast_at`` (string, required): ISO 8601 time with a timezone; the latest counts.
* ``selections`` (object, required): envelope id -> list of project ids (strings).
  The envelopes present are the voter's chosen envelopes (Paris: the city-wide
  envelope and one district).

Blank lines are skipped; extra keys are ignored. See docs/evote-format.md.
"""

from __future__ import annotations

import json

from engine.model.ballots import Channel, Rejection, SourceRef, Submission


def parse_evote_line(text: str | bytes, source: SourceRef) -> Submission | Rejection:
    """Parse one line; never raises on bad input, returns a :class:`Rejection` instead."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Rejection(source, "malformed_line", f"invalid JSON: {exc}")
    except RecursionError:  # e.g. "[[[[…" deeper than the decoder's recursion limit
        return Rejection(source, "malformed_line", "invalid JSON: nested too deeply")
    if not isinstance(doc, dict):
        return Rejection(source, "malformed_line", "a vote line must be a JSON object")
    token = doc.get("token")
    if not isinstance(token, str):
        return Rejection(source, "missing_field", "'token' must be a string")
    cast_at = doc.get("cast_at")
    if not isinstance(cast_at, str):
        return Rejection(source, "missing_field", "'cast_at' must be a string")
    sel = doc.get("selections")
    if not isinstance(sel, dict):
        return Rejection(source, "missing_field", "'selections' must be an object")
    selections: dict[str, list[str]] = {}
    for env, projects in sel.items():
        if not isinstance(projects, list) or not all(isinstance(p, str) for p in projects):
            return Rejection(
                source, "missing_field", f"selections[{env!r}] must be a list of project ids"
            )
        selections[env] = projects
    return Submission(
        token=token, channel=Channel.ONLINE, selections=selections, source=source, cast_at=cast_at
    )
