"""Reading bundle files: raw bytes, strict JSON (no duplicate keys), JSON lines, canonical form.

Every parser of the verifier goes through :func:`strict_loads`, which refuses an object with
a repeated key (``{"a": 1, "a": 2}``): the standard library keeps the last value silently,
another reader may keep the first, so a repeated key lets a file say two things at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import fail

canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


class DuplicateKey(ValueError):
    """A JSON object names the same key twice."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, val in pairs:
        if k in out:
            raise DuplicateKey(f"key {k!r} appears twice in one object")
        out[k] = val
    return out


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` that raises :class:`DuplicateKey` on a repeated key in any object."""
    return json.loads(text, object_pairs_hook=_no_duplicates)


def read_file(directory: Path, name: str) -> bytes:
    """The bytes of ``directory/name``; a missing file fails as ``present``."""
    p = directory / name
    if not p.is_file():
        raise fail(name, "present", f"missing from {directory}")
    return p.read_bytes()


def read_json(directory: Path, name: str) -> Any:
    """A strictly parsed JSON file (``json``, ``duplicate_key`` failures)."""
    try:
        return strict_loads(read_file(directory, name).decode("utf-8"))
    except DuplicateKey as exc:
        raise fail(name, "duplicate_key", str(exc)) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(name, "json", f"not valid UTF-8 JSON ({exc})") from exc




def read_jsonl(directory: Path, name: str) -> list[tuple[int, str, Any]]:
    """Every (line number, line, object) of a JSON-lines file, strictly parsed."""
    return list(iter_jsonl(directory, name))


def iter_lines(directory: Path, name: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of a UTF-8 JSON-lines file whose last line ends with a newline."""
    raw = read_file(directory, name)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(name, "utf8", f"not UTF-8 ({exc})") from exc
    if text and not text.endswith("\n"):
        raise fail(name, "format", "the last line has no newline", text.count("\n") + 1)
    del raw
    yield from enumerate(text.split("\n")[:-1] if text else [], start=1)


def iter_jsonl(directory: Path, name: str, *, strict: bool = True) -> Iterator[tuple[int, str, Any]]:
    """(line number, line, parsed object) for each line; streamed (ballots.jsonl is large).

    ``strict=False`` parses with the plain (faster) ``json.loads``: only for a caller that
    then requires each line to be canonical JSON, which a line with a repeated key never is
    (:func:`duplicate_key_problem` then names it).
    """
    loads = strict_loads if strict else json.loads
    for no, line in iter_lines(directory, name):
        try:
            obj = loads(line)
        except DuplicateKey as exc:
            raise fail(name, "duplicate_key", str(exc), no) from exc
        except json.JSONDecodeError as exc:
            raise fail(name, "json", f"not valid JSON ({exc.msg})", no) from exc
        if not isinstance(obj, dict):
            raise fail(name, "json", "a line must be a JSON object", no)
        yield no, line, obj


def duplicate_key_problem(line: str) -> str | None:
    """Why ``line`` (valid JSON) repeats a key, or None."""
    try:
        strict_loads(line)
    except DuplicateKey as exc:
        return str(exc)
    return None
