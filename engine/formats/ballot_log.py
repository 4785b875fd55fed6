"""The ballot log (``ballots.jsonl``): one canonical JSON line per counted ballot, append-only.

**Append-only in publication order.** Publication 1 holds every counted ballot, sorted by
receipt id (so the order of voting cannot be recovered). A later publication appends a
*segment*: ``withdraw`` lines for ballots no longer counted (a paper ballot superseded an
online vote, an adjudication changed a ballot), then ``count`` lines for newly counted
ballots, each group sorted by receipt id. The Merkle tree is over all lines, so the tree
of publication ``k`` is a prefix of the tree of publication ``k+1`` and an RFC 6962
consistency proof links them. The counted set is the ``count`` lines not later withdrawn.
Line format: ``docs/bundle.md``. Pure functions, no I/O.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from engine.errors import PublishError
from engine.model.ballots import Ballot, Channel

# canonical_json with one reusable encoder (the ballot log has one call per ballot)
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_RECEIPT = re.compile(r'"receipt":"([^"]+)"')


@functools.lru_cache(maxsize=65536)
def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def is_plain(text: str) -> bool:
    """Whether ``text`` matches ``[0-9A-Za-z]+`` (no JSON escaping needed), without a regex."""
    return text.isascii() and text.isalnum()

_msgspec_json = msgspec.json.encode


def selections_json(ballot: Ballot) -> str:
    """The ``selections`` object of a ``count`` line, envelopes in the ballot's order:
    ``{"env":["p",...],...}``, strings as ``json.dumps(s, ensure_ascii=False)`` writes them.

    msgspec encodes the object in one call (6x the pure-Python join, one call per ballot); a
    ballot it cannot take like that (an envelope twice, a string msgspec refuses) is
    assembled piece by piece with :func:`json.dumps`. The tests check both agree.
    """
    sel = dict(ballot.selections)
    if len(sel) == len(ballot.selections):
        try:
            return _msgspec_json(sel).decode()
        except (TypeError, UnicodeError):
            pass
    return selections_json_reference(ballot)


def selections_json_reference(ballot: Ballot) -> str:
    """:func:`selections_json` with :func:`json.dumps` per id (the reference)."""
    return "{" + ",".join(f"{_quoted(env)}:[{','.join(map(_quoted, projects))}]"
                          for env, projects in ballot.selections) + "}"


def count_line(ballot: Ballot, publication: int) -> str:
    """The ``count`` line of a ballot: receipt, channel, selections (+ image hash for paper).

    Canonical JSON (sorted keys, no spaces), assembled by hand for speed (one line per
    ballot); :func:`count_entry` is the same line as a dict, and the tests check that
    ``canonical_json(count_entry(b)) == count_line(b)``.
    """
    if not ballot.receipt_id:
        raise PublishError(f"ballot {ballot.ballot_key[:12]}… has no receipt id; cannot publish it")
    if ballot.channel is Channel.PAPER and not ballot.image_sha256:
        raise PublishError(f"paper ballot with receipt {ballot.receipt_id} has no image SHA-256")
    if not (is_plain(ballot.receipt_id) and is_plain(ballot.image_sha256 or "0")):
        return _canonical(count_entry(ballot, publication))
    image = f'"image_sha256":"{ballot.image_sha256}",' if ballot.channel is Channel.PAPER else ""
    return (f'{{"channel":"{ballot.channel.value}",{image}"op":"count","pub":{int(publication)},'
            f'"receipt":"{ballot.receipt_id}","selections":{selections_json(ballot)}}}')


def count_entry(ballot: Ballot, publication: int) -> dict[str, Any]:
    """The ``count`` entry of ``ballots.jsonl`` for one counted ballot in publication
    ``publication``: receipt, channel, selections, and the page's ``image_sha256`` for paper.
    """
    entry: dict[str, Any] = {
        "op": "count",
        "pub": publication,
        "receipt": ballot.receipt_id,
        "channel": ballot.channel.value,
        "selections": {env: list(projects) for env, projects in ballot.selections},
    }
    if ballot.channel is Channel.PAPER:
        entry["image_sha256"] = ballot.image_sha256
    return entry


def withdraw_line(receipt: str, reason: str, publication: int) -> str:
    """The canonical ``withdraw`` line of ``ballots.jsonl``: ``receipt`` is no longer counted
    from publication ``publication`` on, for ``reason``.
    """
    return _canonical({"op": "withdraw", "pub": publication, "receipt": receipt, "reason": reason})


def _content(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("op", "pub")}


def is_withdrawal(line: str) -> bool:
    """Whether a canonical ``ballots.jsonl`` line is a ``withdraw`` entry (no JSON parsing)."""
    return line.startswith('{"op":"withdraw"')  # canonical JSON: "op" is the first key of a withdrawal


def live_receipts(lines: Sequence[str]) -> set[str]:
    """Receipts counted after these lines, without parsing them (canonical JSON: a quote
    inside a string value is escaped, so ``"receipt":"`` only occurs as the key)."""
    live: set[str] = set()
    for line in lines:
        m = _RECEIPT.search(line)
        if m is None:
            raise PublishError(f"log line without a receipt: {line[:80]}")
        if is_withdrawal(line):
            live.discard(m.group(1))
        else:
            live.add(m.group(1))
    return live


def live_entries(lines: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Receipt -> parsed ``count`` entry for every ballot counted after these lines."""
    live: dict[str, dict[str, Any]] = {}
    for line in lines:
        e = json.loads(line)
        if e["op"] == "count":
            live[e["receipt"]] = e
        else:
            live.pop(e["receipt"], None)
    return live


def plan_log_update(
    previous_lines: Sequence[str],
    counted: Sequence[Ballot],
    withdraw_reasons: Mapping[str, str],
    publication: int,
) -> list[str]:
    """The segment that publication ``publication`` appends to the log.

    Withdrawals (receipts counted before and not now, or whose content changed) first,
    then new ``count`` lines; each group sorted by receipt id. Empty when nothing changed.
    Pure; O(n log n).
    """
    live = live_entries(previous_lines)
    wanted: dict[str, str] = {}
    for b in counted:
        if b.receipt_id in wanted:
            raise PublishError(f"two counted ballots share receipt id {b.receipt_id}")
        wanted[b.receipt_id] = count_line(b, publication)
    withdraw: dict[str, str] = {}
    for receipt, entry in live.items():
        if receipt not in wanted:
            withdraw[receipt] = withdraw_line(receipt, withdraw_reasons.get(receipt, "withdrawn"), publication)
        elif _content(json.loads(wanted[receipt])) != _content(entry):
            withdraw[receipt] = withdraw_line(receipt, "corrected", publication)
    add = {r: line for r, line in wanted.items() if r not in live or r in withdraw}
    return [withdraw[r] for r in sorted(withdraw)] + [add[r] for r in sorted(add)]


def leaf_hashes(lines: Sequence[str]) -> list[bytes]:
    """RFC 6962 leaf hashes of log lines (UTF-8, without the newline)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + line.encode()).digest() for line in lines]
