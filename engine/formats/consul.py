"""Consul Democracy ballot sheets: paper ballots out, a sheet checked line by line (pure).

The format, as Consul implements it (cited in docs/platforms.md): a poll officer pastes
"CSV data" into a text area (``Officing::BallotSheetsController``); ``Poll::BallotSheet#
parsed_ballots`` splits it into ballots on ``;`` or a newline, and ``Poll::Ballot#
investments`` splits a ballot on ``,`` into investment ids. Each id is looked up in the
budget and added to a physical ``Budget::Ballot`` -- and **silently dropped** when it is
not an investment of the budget, already on that ballot, not selected, or when the line
fails validation (insufficient funds for the heading, another heading of the same group).

:func:`format_ballot_sheet` writes one ballot per line. :func:`parse_ballot_sheet` reads a
sheet the way Consul does (the ballots it returns keep what Consul would keep) but names
every entry Consul would drop, by line and ballot, with a reason of :data:`SHEET_REASONS`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SHEET_REASONS: dict[str, str] = {
    "empty_ballot": "a ballot with no investment id (Consul records an empty physical ballot)",
    "not_an_id": "an entry that is not a whole number (Consul finds no investment: dropped)",
    "unknown_investment": "no investment with this id in the budget (dropped)",
    "other_heading": "an investment of another heading than the ballot's first one (dropped: "
                     "a heading of the same group was already selected)",
    "duplicate_investment": "the same investment twice on one ballot (the second is dropped)",
    "insufficient_funds": "the ballot's investments so far leave too little of the heading's money "
                          "for this one (dropped)",
}


@dataclass(frozen=True)
class SheetInvestment:
    """What the check needs to know of an investment: its heading (envelope) and price."""

    heading: str
    price: int


@dataclass(frozen=True)
class SheetBallot:
    """One ballot of a sheet as Consul would store it."""

    line: int  # 1-based line of the sheet
    index: int  # 0-based position among all ballots (Consul's ``external_id``)
    investment_ids: tuple[str, ...]  # what Consul keeps, in the sheet's order


@dataclass(frozen=True)
class SheetProblem:
    """An entry Consul would drop silently (or an empty ballot), with where and why."""

    line: int
    index: int
    entry: str
    reason: str  # a key of SHEET_REASONS
    detail: str

    def where(self, source: str) -> str:
        """``file:line (ballot n)``, n counted from 1."""
        return f"{source}:{self.line} (ballot {self.index + 1})"


def format_ballot_sheet(ballots: Iterable[Iterable[str]]) -> str:
    """One line per ballot, investment ids separated by ``,`` (ballots with no id are skipped:
    Consul would record them as empty ballots). O(ids)."""
    lines = [",".join(ids) for ids in (tuple(b) for b in ballots) if ids]
    return "".join(line + "\n" for line in lines)


def parse_ballot_sheet(
    text: str, investments: Mapping[str, SheetInvestment], heading_budget: Mapping[str, int] | None = None,
) -> tuple[list[SheetBallot], list[SheetProblem]]:
    """Split ``text`` like Consul (ballots on ``;`` and newlines, ids on ``,``; spaces around
    an id are ignored, as Rails casts ``" 12"`` to 12) and check each entry against
    ``investments`` (id -> heading, price) and ``heading_budget`` (heading -> money one ballot
    may spend; no funds check when None). Returns the ballots as Consul would store them and
    one problem per dropped entry or empty ballot. Like Ruby's ``split``, empty pieces at the
    very end of the text are no ballots. O(length of the text)."""
    pieces: list[tuple[int, str]] = []
    for line_no, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        for piece in line.split(";"):
            pieces.append((line_no, piece))
    while pieces and pieces[-1][1].strip() == "":
        pieces.pop()
    ballots: list[SheetBallot] = []
    problems: list[SheetProblem] = []
    for index, (line_no, piece) in enumerate(pieces):
        def problem(entry: str, reason: str, detail: str) -> None:
            problems.append(SheetProblem(line_no, index, entry, reason, detail))  # noqa: B023  # called at once

        entries = piece.split(",")
        while entries and entries[-1] == "":  # Ruby's split drops trailing empty fields
            entries.pop()
        if all(e.strip() == "" for e in entries):
            problem(piece, "empty_ballot", "no investment id")
            ballots.append(SheetBallot(line_no, index, ()))
            continue
        kept: list[str] = []
        heading: str | None = None
        spent = 0
        for raw in entries:
            entry = raw.strip()
            if not entry.isdigit() or not entry.isascii():
                problem(raw, "not_an_id", f"{raw!r} is not an investment id")
                continue
            entry = str(int(entry))
            inv = investments.get(entry)
            if inv is None:
                problem(raw, "unknown_investment", f"no investment {entry} in this budget")
                continue
            if entry in kept:
                problem(raw, "duplicate_investment", f"investment {entry} is already on this ballot")
                continue
            if heading is not None and inv.heading != heading:
                problem(raw, "other_heading", f"investment {entry} is in heading {inv.heading!r}, "
                        f"the ballot's first investment in {heading!r}")
                continue
            if heading_budget is not None and inv.heading in heading_budget \
                    and spent + inv.price > heading_budget[inv.heading]:
                problem(raw, "insufficient_funds", f"investment {entry} costs {inv.price:,}; "
                        f"{heading_budget[inv.heading] - spent:,} left of {heading_budget[inv.heading]:,}")
                continue
            heading = inv.heading
            spent += inv.price
            kept.append(entry)
        ballots.append(SheetBallot(line_no, index, tuple(kept)))
    return ballots, problems
