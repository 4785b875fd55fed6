"""Results as CSV text for journalists (UTF-8, header row, comma-separated).

Every column of every file is documented in ``docs/results-csv.md``. In short:

``projects.csv`` — one row per project, envelopes in definition order, projects by rank.
``envelopes.csv`` — one row per envelope, no total row (a voter may vote in several
envelopes, so ballot columns do not add up to the number of voters: the election-wide
figures are in ``summary.csv``).
``summary.csv`` — ``metric, value, definition``: one row per election-wide figure.
``turnout.csv`` — per envelope and channel: ballots, share of the envelope's ballots and
of all voters.

Breakdowns by category and district are in :mod:`engine.formats.breakdowns`, turnout by
voter group in :mod:`engine.formats.group_turnout`. Pure functions returning strings; the
caller writes the files (:func:`encode_csv` adds the optional UTF-8 BOM).

Percentages are ``100 * part / whole`` printed with two decimals (``pct``), empty when the
whole is zero, so the stand-alone verifier recomputes the same text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from engine.counting.count import CountResult
from engine.counting.tally import EnvelopeTally
from engine.model.ballots import Channel
from engine.model.election import Envelope
from engine.model.ids import ProjectId

PROJECT_COLUMNS = [
    "envelope_id", "project_id", "title", "cost", "district", "category",
    "popular_neighbourhood", "votes_online", "votes_paper", "votes_total", "vote_share_pct", "rank",
    "selected", "cumulative_cost", "reason", "detail",
]
# Added after the project columns only when the election has a grades or for-against
# envelope (so files of approval elections, and older bundles, keep their columns)
OPINION_COLUMNS = ["votes_against", "grade_counts", "majority_grade"]
ENVELOPE_COLUMNS = [
    "envelope_id", "name", "kind", "budget", "spent", "left_over", "projects_funded",
    "ballots_total", "ballots_online", "ballots_paper", "superseded",
]
SUMMARY_COLUMNS = ["metric", "value", "definition"]
TURNOUT_COLUMNS = [
    "envelope_id", "channel", "ballots", "share_of_envelope_pct", "share_of_voters_pct",
]


def pct(part: int, whole: int) -> str:
    """``100 * part / whole`` with two decimals; empty when ``whole`` is 0."""
    return f"{100 * part / whole:.2f}" if whole else ""


def write_csv(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """CSV text (``\\n`` line ends, minimal quoting) of a header and rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def encode_csv(text: str, *, bom: bool = False) -> bytes:
    """UTF-8 bytes of a CSV text, with a byte-order mark first when ``bom`` (spreadsheets
    such as Excel then read accents correctly; most other tools do not need it)."""
    return ("\ufeff" if bom else "").encode() + text.encode("utf-8")


def lower_median(row: Sequence[int]) -> int:
    """Index of the lower median grade of per-grade counts (lowest first); 0 when empty."""
    seen, target = 0, (sum(row) - 1) // 2
    for g, c in enumerate(row):
        seen += c
        if seen > target:
            return g
    return 0


def opinion_cells(env: Envelope, et: EnvelopeTally, pid: ProjectId) -> list[object]:
    """``votes_against``, ``grade_counts`` (best first, ``name: count``, ungraded counted as
    the envelope's ungraded grade) and ``majority_grade`` of a project; empty where they do
    not apply."""
    if env.ballot == "for-against":
        return [et.projects[pid].against, "", ""]
    if env.ballot == "grades":
        row = et.grade_profile(pid)
        scale = env.grade_scale
        counts = "; ".join(f"{scale[g]}: {row[g]}" for g in reversed(range(len(scale))))
        return ["", counts, scale[lower_median(row)] if sum(row) else ""]
    return ["", "", ""]


def projects_csv(result: CountResult) -> str:
    """One row per project; ``vote_share_pct`` is of the envelope's counted ballots. With a
    grades or for-against envelope in the election, also :data:`OPINION_COLUMNS`."""
    e = result.election
    opinions = any(env.ballot != "approval" for env in e.envelopes)
    rows: list[list[object]] = []
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        for o in sorted(alloc.outcomes, key=lambda o: o.rank):
            p = e.project(o.project_id)
            assert p is not None
            v = et.projects[p.id]
            rows.append([
                env.id, p.id, p.title, p.cost, p.district or "", p.category or "",
                int(p.popular_neighbourhood), v.online, v.paper, v.total, pct(v.total, et.ballots), o.rank,
                int(o.selected), o.cumulative_cost, o.reason, o.detail,
            ] + (opinion_cells(env, et, p.id) if opinions else []))
    return write_csv(rows, PROJECT_COLUMNS + (OPINION_COLUMNS if opinions else []))


def superseded_per_envelope(result: CountResult) -> dict[str, int]:
    """Superseded ballots per envelope they covered (a ballot counts in each of its envelopes)."""
    out: dict[str, int] = {}
    for s in result.dedup.superseded:
        for env_id, _ in s.ballot.selections:
            out[env_id] = out.get(env_id, 0) + 1
    return out


def envelopes_csv(result: CountResult) -> str:
    """One row per envelope, in definition order; no total row (see ``summary.csv``)."""
    e = result.election
    sup = superseded_per_envelope(result)
    rows: list[list[object]] = []
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        et = result.tally.envelopes[env.id]
        rows.append([env.id, env.name, env.kind, env.budget, alloc.cost, env.budget - alloc.cost,
                     len(alloc.selected), et.ballots, et.ballots_online, et.ballots_paper, sup.get(env.id, 0)])
    return write_csv(rows, ENVELOPE_COLUMNS)


def summary_rows(result: CountResult, registered: int | None = None) -> list[list[object]]:
    """``[metric, value, definition]`` rows of the election-wide figures.

    ``registered``: the number of tokens issued to the register, when known (then
    ``turnout_pct`` is given); rejections are listed per reason after the totals.
    """
    e = result.election
    counted = result.dedup.counted
    n_online = sum(1 for b in counted if b.channel is Channel.ONLINE)
    spending = [env for env in e.envelopes if env.savings is None]  # a savings target is no budget
    savings = [env for env in e.envelopes if env.savings is not None]
    budget = sum(env.budget for env in spending)
    spent = sum(result.allocation.envelopes[env.id].cost for env in spending)
    funded = sum(len(result.allocation.envelopes[env.id].selected) for env in spending)
    spending_ids = {env.id for env in spending}
    rejected = sum(result.rejected_by_reason.values())
    rows: list[list[object]] = [
        ["election_id", e.id, "identifier of the election definition"],
        ["election_name", e.name, "name of the election"],
        ["currency", e.currency, "currency of every amount"],
        ["voters", len(counted), "ballots counted after deduplication = distinct voters (one ballot per "
         "voter, covering one or more envelopes)"],
        ["voters_online", n_online, "counted ballots cast online"],
        ["voters_paper", len(counted) - n_online, "counted paper ballots"],
        ["superseded", len(result.dedup.superseded), "valid ballots not counted because the same voter's "
         "other ballot takes precedence (paper over online, last online vote)"],
        ["rejected", rejected, "lines or pages refused (invalid token, malformed, over the limits...); "
         "per reason below"],
        ["envelopes", len(e.envelopes), "number of envelopes (budgets voted on separately)"],
        ["budget", budget, "sum of the envelopes' budgets (savings envelopes apart)"],
        ["spent", spent, "sum of the costs of the funded projects, all envelopes but savings ones"],
        ["left_over", budget - spent, "budget - spent"],
        ["projects", sum(1 for p in e.projects if p.envelope in spending_ids),
         "projects on the ballot, all envelopes but savings ones"],
        ["projects_funded", funded, "projects funded, all envelopes but savings ones"],
    ]
    if savings:
        saving_ids = {env.id for env in savings}
        rows += [
            ["savings_target", sum(env.budget for env in savings), "sum of the savings envelopes' targets"],
            ["savings_reached", sum(result.allocation.envelopes[env.id].cost for env in savings),
             "sum of the amounts saved by the lines cut (savings.csv per sector)"],
            ["spending_lines", sum(1 for p in e.projects if p.envelope in saving_ids),
             "spending lines on the savings ballots"],
            ["lines_cut", sum(len(result.allocation.envelopes[env.id].selected) for env in savings),
             "spending lines cut"],
        ]
    if registered is not None:
        rows.append(["registered", registered, "voters on the register (tokens issued from it)"])
        rows.append(["turnout_pct", pct(len(counted), registered), "100 * voters / registered"])
    for reason, n in sorted(result.rejected_by_reason.items()):
        rows.append([f"rejected_{reason}", n, f"rejections with reason '{reason}' (docs/evote-format.md, "
                     "docs/paper-ballots.md)"])
    return rows


def summary_csv(result: CountResult, registered: int | None = None) -> str:
    """The election-wide totals with their definitions (``metric, value, definition``)."""
    return write_csv(summary_rows(result, registered), SUMMARY_COLUMNS)


def turnout_csv(result: CountResult) -> str:
    """Per envelope, one row per channel (``online``, ``paper``, ``all``).

    ``share_of_envelope_pct``: the channel's share of the envelope's ballots;
    ``share_of_voters_pct``: the envelope's ballots of that channel over all counted
    voters of that channel (how many of the online voters also voted in this envelope).
    """
    counted = result.dedup.counted
    voters = {Channel.ONLINE.value: sum(1 for b in counted if b.channel is Channel.ONLINE)}
    voters[Channel.PAPER.value] = len(counted) - voters[Channel.ONLINE.value]
    voters["all"] = len(counted)
    rows: list[list[object]] = []
    for env in result.election.envelopes:
        et = result.tally.envelopes[env.id]
        for channel, n in (("online", et.ballots_online), ("paper", et.ballots_paper), ("all", et.ballots)):
            rows.append([env.id, channel, n, pct(n, et.ballots), pct(n, voters[channel])])
    return write_csv(rows, TURNOUT_COLUMNS)
