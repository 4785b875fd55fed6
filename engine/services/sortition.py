"""The sortition service: read a record directory, verify it, summarise it.

What ``pbcount sortition verify`` / ``show`` and ``pbcount serve --sortition DIR`` call, so
the CLI and the API read, verify and summarise a record the same way. The pure parts are
:func:`engine.sortition.record.verify_record` and
:func:`engine.sortition.summary.record_summary`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from engine.errors import SortitionInputError
from engine.sortition.record import SIGNED_FILES, verify_record
from engine.sortition.summary import RecordSummary, record_summary

RECORD_FILES = frozenset({*SIGNED_FILES, "manifest.json", "results.pub"})


def read_record_dir(directory: Path) -> dict[str, bytes]:
    """The regular files directly inside ``directory`` (name -> bytes), by name."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@dataclass(frozen=True)
class LoadedRecord:
    """A record as read once: its files (what is served is what was verified), the problems
    :func:`verify_record` found (empty: verified) and its summary (None if unreadable)."""

    name: str
    files: Mapping[str, bytes]
    problems: tuple[str, ...]
    summary: RecordSummary | None

    @property
    def verified(self) -> bool:
        """True when the signature holds and the draw re-derives bit for bit."""
        return not self.problems


def load_record(directory: Path, key: Ed25519PublicKey | None, name: str | None = None) -> LoadedRecord:
    """Read, verify (with the trusted results ``key``; None: the record's own results.pub, which
    only proves self-consistency) and summarise the record in ``directory``. Only the record's
    own files (:data:`RECORD_FILES`) are kept: other files in the directory are not part of
    the record and are never served."""
    files = {n: b for n, b in read_record_dir(directory).items() if n in RECORD_FILES}
    problems = verify_record(files, key)
    try:
        summary: RecordSummary | None = record_summary(files)
    except SortitionInputError as exc:
        summary = None
        problems = [*problems, f"summary: {exc}"]
    return LoadedRecord(name or directory.name, files, tuple(problems), summary)


RECORD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def load_records(directories: Sequence[Path], key: Ed25519PublicKey | None,
                 key_problem: str | None = None) -> dict[str, LoadedRecord]:
    """Each directory's record by name (the directory's name), in the order given, verified
    with ``key``. Without a trusted key every record is unverified and says why
    (``key_problem``): its own results.pub proves nothing about who signed it.

    Raises SortitionInputError for a missing directory, a name unfit for a URL, or two
    directories with the same name.
    """
    out: dict[str, LoadedRecord] = {}
    for d in directories:
        if not d.is_dir():
            raise SortitionInputError(f"{d}: not a sortition record directory")
        name = d.resolve().name
        if not RECORD_NAME.fullmatch(name):
            raise SortitionInputError(f"{d}: the record's name {name!r} must be letters, digits, '.', '_' or '-'")
        if name in out:
            raise SortitionInputError(f"{d}: a record named {name!r} is already served; rename one directory")
        rec = load_record(d, key, name)
        if key is None:
            why = key_problem or "no trusted results key"
            rec = replace(rec, problems=(f"not checked against the server's results key: {why}", *rec.problems))
        out[name] = rec
    return out
