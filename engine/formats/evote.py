"""The e-vote line format (JSON Lines), one vote per line, UTF-8: the one grammar of a vote::

    {"token": "PB1-…", "cast_at": "2026-05-03T10:15:00Z",
     "selections": {"paris": ["P012", "P101"], "d11": ["D11-004"]}}

* ``token`` (string, required): the voter's token text; spaces around it are stripped.
* ``cast_at`` (string, required): ISO 8601 time with a timezone; the latest counts.
* ``selections`` (object, required): envelope id -> list of project ids (strings) for an
  approval envelope, or an object project id -> opinion for a grade envelope (a grade
  name: ``{"P012": "J'adore"}``) or a for/against one (``"for"`` or ``"against"``).
  The envelopes present are the voter's chosen envelopes (Paris: the city-wide
  envelope and one district). A project given twice in one object is ``duplicate_key``
  (so never both for and against); the grade names are checked against the election.

The same grammar serves every entry point: ``pbcount ingest evotes`` (each line of a
file), ``POST /v1/votes:batch`` (each line of the body) and ``POST /v1/votes`` (the body).
It is published as :data:`EVOTE_LINE_SCHEMA` (JSON Schema 2020-12; in OpenAPI and in
docs/evote-format.md). Unknown keys are refused (``unknown_field``: a key the counter
does not understand may carry meaning the sender expected to count), and so is a key
given twice (``duplicate_key``: no "last one wins"). Blank lines are skipped by the
readers. :func:`parse_evote_line` is total: on any bytes it returns a
:class:`~engine.model.ballots.Submission` or a located
:class:`~engine.model.ballots.Rejection`, never raises (fuzzed in tests/fuzz/).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec

from engine.model.ballots import Channel, Rejection, SourceRef, Submission

MAX_TOKEN_CHARS = 300
MAX_CAST_AT_CHARS = 64
MAX_ENVELOPES = 50
MAX_PROJECTS_PER_ENVELOPE = 100
MAX_ID_CHARS = 100
VOTE_FIELDS = ("token", "cast_at", "selections")

_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS}

# The published grammar (JSON Schema 2020-12). Duplicate keys are refused too, which JSON
# Schema cannot say (a decoded document has no duplicates left): see "description".
EVOTE_LINE_SCHEMA: dict[str, Any] = {
    "title": "pbcount e-vote line (v1)",
    "description": "One e-vote: a JSON object on one line (UTF-8). No other keys are allowed, "
                   "and no key may appear twice (duplicate_key).",
    "type": "object",
    "additionalProperties": False,
    "required": list(VOTE_FIELDS),
    "properties": {
        "token": {"type": "string", "maxLength": MAX_TOKEN_CHARS,
                  "description": "the voter's signed token text (PB1-…); spaces around it are ignored"},
        "cast_at": {"type": "string", "maxLength": MAX_CAST_AT_CHARS,
                    "description": "ISO 8601 time with a timezone, inside the election's voting period"},
        "selections": {
            "type": "object", "maxProperties": MAX_ENVELOPES,
            "propertyNames": {"minLength": 1, "maxLength": MAX_ID_CHARS},
            "additionalProperties": {"oneOf": [
                {"type": "array", "maxItems": MAX_PROJECTS_PER_ENVELOPE, "items": _ID,
                 "description": "approval envelope: the chosen project ids"},
                {"type": "object", "maxProperties": MAX_PROJECTS_PER_ENVELOPE,
                 "propertyNames": {"minLength": 1, "maxLength": MAX_ID_CHARS},
                 "additionalProperties": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
                 "description": "grade envelope: project id -> grade name; for/against envelope: "
                                "project id -> \"for\" or \"against\""},
            ]},
            "description": "envelope id -> project ids (or opinions); an empty list or object counts as absent",
        },
    },
    "examples": [{"token": "PB1-…", "cast_at": "2026-09-12T10:15:00Z",
                  "selections": {"paris": ["P012", "P101"], "d11": ["D11-004"]}},
                 {"token": "PB1-…", "cast_at": "2026-09-12T10:15:00Z",
                  "selections": {"paris": {"P012": "J'adore", "P101": "Pas convaincu·e"}}}],
}

_GZIP_MAGIC = b"\x1f\x8b"
GZIP_HINT = "the file looks gzip-compressed: decompress it first (e.g. gunzip FILE.gz)"
CR_HINT = ("the line holds a carriage return: lines must end with LF or CRLF; a file with old "
           "CR-only line ends must be converted first (e.g. tr '\\r' '\\n')")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook``: a JSON object as a dict, refusing a key given twice."""
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return d


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs)


def shown(key: object) -> str:
    """A key for a message: quoted, cut to 40 characters, always valid UTF-8 (``repr``
    escapes lone surrogates, which PostgreSQL would refuse)."""
    text = key if isinstance(key, str) else str(key)
    return repr(text[:40]) + ("…" if len(text) > 40 else "")


def hint_for(raw: str | bytes) -> str:
    """Why a line that is not JSON might be so: gzip, CR-only line ends; else ''."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.startswith(_GZIP_MAGIC):
        return GZIP_HINT
    if b"\r" in data.rstrip(b"\r\n"):
        return CR_HINT
    return ""


def parse_evote_line(text: str | bytes, source: SourceRef) -> Submission | Rejection:
    """Parse one vote line by :data:`EVOTE_LINE_SCHEMA`; total: never raises on any input.

    The fast path (:func:`fast_parse`, msgspec, ~3 µs) takes every well-formed line; any
    other line goes to :func:`parse_evote_line_reference`, so the answer and the exact
    rejection reason are the reference parser's (property-tested equal in
    tests/unit/test_evote_fast_path.py).
    """
    sub = fast_parse(text, source)
    return sub if sub is not None else parse_evote_line_reference(text, source)


_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS)]


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    """The grammar's happy path as a typed struct (the same bounds as the schema)."""

    token: Annotated[str, msgspec.Meta(max_length=MAX_TOKEN_CHARS)]
    cast_at: Annotated[str, msgspec.Meta(max_length=MAX_CAST_AT_CHARS)]
    selections: Annotated[
        dict[_Id, Annotated[list[_Id], msgspec.Meta(max_length=MAX_PROJECTS_PER_ENVELOPE)]],
        msgspec.Meta(max_length=MAX_ENVELOPES),
    ]


_FAST_DECODER = msgspec.json.Decoder(_Line)


def fast_parse(text: str | bytes, source: SourceRef) -> Submission | None:
    """The submission of a well-formed line, or ``None`` when the line needs the reference
    parser (anything unusual: not this grammar, a bound exceeded, an escape sequence, a
    key possibly given twice). Never raises.

    msgspec keeps the last of duplicated keys, so duplicates are excluded by counting: a
    colon outside a JSON string separates exactly one key from its value, so a line with
    no backslash (no escaped colon) has ``count(':') == pairs + colons inside strings``.
    The decoded document holds ``3 + len(selections)`` pairs; a dropped duplicate would
    add one structural colon more (and its own strings' colons), so equality with the
    decoded pairs plus ``cast_at``'s colons proves no key was dropped (any colon in
    another string only makes the check fail towards the reference parser). O(line).
    """
    if isinstance(text, str):
        if "\\" in text:
            return None
        colons = text.count(":")
    else:
        if b"\\" in text:
            return None
        colons = text.count(b":")
    try:
        line = _FAST_DECODER.decode(text)
    except (msgspec.DecodeError, ValueError, TypeError):  # ValidationError is a DecodeError
        return None
    sel = line.selections
    if colons != 3 + len(sel) + line.cast_at.count(":"):
        return None
    return Submission(token=line.token.strip(), channel=Channel.ONLINE, selections=sel, source=source,
                      cast_at=line.cast_at)


def parse_evote_line_reference(text: str | bytes, source: SourceRef) -> Submission | Rejection:
    """The reference parser of :data:`EVOTE_LINE_SCHEMA` (stdlib ``json``); total.

    Checks, the first failure wins: JSON (``malformed_line``, with a hint for gzip or
    CR-only input), each key once (``duplicate_key``), an object with no other key than
    token/cast_at/selections (``unknown_field``), then each field's type and bounds
    (``missing_field``). Cost: one JSON decode plus O(selected projects).
    """
    try:
        doc = _DECODER.decode(text if isinstance(text, str) else text.decode("utf-8-sig"))
    except _DuplicateKey as exc:
        return Rejection(source, "duplicate_key", f"key {shown(exc.key)} given twice")
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, ints over 4,300 digits
        hint = hint_for(text)
        return Rejection(source, "malformed_line", f"invalid JSON: {exc}" + (f" ({hint})" if hint else ""))
    except RecursionError:  # e.g. "[[[[…" deeper than the decoder's recursion limit
        return Rejection(source, "malformed_line", "invalid JSON: nested too deeply")
    if not isinstance(doc, dict):
        return Rejection(source, "malformed_line", "a vote line must be a JSON object")
    if len(doc) > 3 or not doc.keys() <= _FIELDS:
        unknown = sorted(k for k in doc if k not in _FIELDS)
        return Rejection(source, "unknown_field", f"unknown key {shown(unknown[0])}; a vote line has only "
                         "'token', 'cast_at' and 'selections'")
    token = doc.get("token")
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        return Rejection(source, "missing_field", f"'token' must be a string of at most {MAX_TOKEN_CHARS} characters")
    cast_at = doc.get("cast_at")
    if not isinstance(cast_at, str) or len(cast_at) > MAX_CAST_AT_CHARS:
        return Rejection(source, "missing_field",
                         f"'cast_at' must be a string of at most {MAX_CAST_AT_CHARS} characters")
    sel = doc.get("selections")
    if not isinstance(sel, dict) or len(sel) > MAX_ENVELOPES:
        return Rejection(source, "missing_field",
                         f"'selections' must be an object of at most {MAX_ENVELOPES} envelopes")
    opinions: dict[str, dict[str, str]] = {}
    for env, projects in sel.items():
        if not 0 < len(env) <= MAX_ID_CHARS:
            return Rejection(source, "missing_field", f"selections: envelope id {shown(env)} must have "
                             f"1 to {MAX_ID_CHARS} characters")
        if isinstance(projects, dict):
            if len(projects) > MAX_PROJECTS_PER_ENVELOPE or not all(
                    0 < len(p) <= MAX_ID_CHARS and isinstance(o, str) and 0 < len(o) <= MAX_ID_CHARS
                    for p, o in projects.items()):
                return Rejection(source, "missing_field", f"selections[{shown(env)}] must map at most "
                                 f"{MAX_PROJECTS_PER_ENVELOPE} project ids to an opinion (a grade name, "
                                 f"'for' or 'against') of 1 to {MAX_ID_CHARS} characters")
            opinions[env] = projects
            continue
        if (not isinstance(projects, list) or len(projects) > MAX_PROJECTS_PER_ENVELOPE
                or not all(isinstance(p, str) and 0 < len(p) <= MAX_ID_CHARS for p in projects)):
            return Rejection(source, "missing_field", f"selections[{shown(env)}] must be a list of at most "
                             f"{MAX_PROJECTS_PER_ENVELOPE} project ids of 1 to {MAX_ID_CHARS} characters")
    if opinions:
        sel = {env: projects for env, projects in sel.items() if env not in opinions}
    return Submission(token=token.strip(), channel=Channel.ONLINE, selections=sel, source=source, cast_at=cast_at,
                      opinions=opinions)


_FIELDS = frozenset(VOTE_FIELDS)
