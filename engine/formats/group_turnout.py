"""Turnout by voter group (age band, popular-neighbourhood residence...), k-anonymous.

Input: the *groups file* written by ``pbcount tokens issue --register voters.csv
--group-columns age_band,popular_neighbourhood --groups-out groups.csv``: a CSV with a
``serial`` column (the token serial, 16 Crockford symbols) and one column per attribute,
holding only the group labels — never names, addresses or voter ids (privacy reasoning in
``docs/results-csv.md``).

Output ``groups.csv``: one row per (attribute, group) sorted by both:
``attribute, group, registered, voted, voted_online, voted_paper, turnout_pct, suppressed``.
A group with fewer than ``k`` registered voters or fewer than ``k`` voters has its
figures left empty and ``suppressed = 1``; when either channel count of a shown group is
under ``k`` both channel cells are left empty (one could be derived from the other).
Pure; O(register + counted ballots).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from engine.errors import GroupsFileError
from engine.formats.results_csv import pct, write_csv
from engine.model.ballots import Ballot, Channel

K_MIN = 10
GROUP_COLUMNS = ["attribute", "group", "registered", "voted", "voted_online", "voted_paper",
                 "turnout_pct", "suppressed"]


@dataclass(frozen=True)
class VoterGroups:
    """Group labels per token serial: ``labels[serial] = (label of attribute 0, ...)``."""

    attributes: tuple[str, ...]
    labels: Mapping[str, tuple[str, ...]]


def parse_groups_csv(text: str, source: str = "groups.csv") -> VoterGroups:
    """Read a groups file; raises :class:`GroupsFileError` naming the line on bad input."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header or header[0] != "serial" or len(header) < 2:
        raise GroupsFileError(f"{source}:1: the header must be 'serial' then one column per attribute")
    attributes = tuple(header[1:])
    labels: dict[str, tuple[str, ...]] = {}
    for line_no, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise GroupsFileError(f"{source}:{line_no}: {len(row)} fields, the header has {len(header)}")
        if row[0] in labels:
            raise GroupsFileError(f"{source}:{line_no}: serial {row[0]!r} listed twice")
        labels[row[0]] = tuple(row[1:])
    return VoterGroups(attributes, labels)


def groups_csv_text(attributes: Iterable[str], rows: Iterable[tuple[str, Iterable[str]]]) -> str:
    """The groups file itself: ``serial`` then the attribute labels (what tokens issue writes)."""
    return write_csv([[serial, *labels] for serial, labels in rows], ["serial", *attributes])


def group_turnout_csv(groups: VoterGroups, counted: Iterable[Ballot], k: int = K_MIN) -> str:
    """Turnout per (attribute, group); groups under ``k`` are suppressed (see module doc).

    Counted ballots whose serial is not in the groups file (anonymous tokens) are ignored.
    """
    n_attr = len(groups.attributes)
    registered: list[dict[str, int]] = [{} for _ in range(n_attr)]
    for labels in groups.labels.values():
        for i, lab in enumerate(labels):
            registered[i][lab] = registered[i].get(lab, 0) + 1
    voted: list[dict[str, list[int]]] = [{} for _ in range(n_attr)]  # label -> [online, paper]
    for b in counted:
        ballot_labels = groups.labels.get(b.voter_serial)
        if ballot_labels is None:
            continue
        col = 0 if b.channel is Channel.ONLINE else 1
        for i, lab in enumerate(ballot_labels):
            voted[i].setdefault(lab, [0, 0])[col] += 1
    rows: list[list[object]] = []
    for i, attr in sorted(enumerate(groups.attributes), key=lambda t: t[1]):
        for lab in sorted(registered[i]):
            reg = registered[i][lab]
            on, pa = voted[i].get(lab, [0, 0])
            if reg < k or on + pa < k:
                rows.append([attr, lab, "", "", "", "", "", 1])
                continue
            ch = ["", ""] if min(on, pa) < k else [on, pa]
            rows.append([attr, lab, reg, on + pa, *ch, pct(on + pa, reg), 0])
    return write_csv(rows, GROUP_COLUMNS)
