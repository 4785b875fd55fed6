"""The pabulib ``.pb`` exchange format (https://pabulib.org/format): reader and writer.

A ``.pb`` file is UTF-8 text, fields separated by ``;`` and optionally quoted with ``"``,
in three sections, each a title line (``META``, ``PROJECTS``, ``VOTES``), a header line
and rows:

* ``META`` — ``key;value`` rows. Required: ``num_projects``, ``num_votes``, ``budget``,
  ``vote_type`` (``approval``, ``choose-1``, ``cumulative``, ``scoring``, ``ordinal``).
  Every other key (``rule``, ``min_length``, ``max_length``, ``min_project_score_threshold``
  ...) is kept verbatim in :attr:`PbInstance.meta`.
* ``PROJECTS`` — ``project_id`` and ``cost`` required; optional columns (``votes``,
  ``score``, ``name``, ``category``, ``target``/``beneficiaries``, ``selected``,
  ``district`` ...) are kept verbatim in :attr:`PbProject.fields`.
* ``VOTES`` — ``voter_id`` and ``vote`` (comma list; most preferred first for ordinal)
  required; ``points`` (comma list, same length) for cumulative and scoring ballots;
  other columns (``age``, ``sex``, ``voting_method`` ...) kept in :attr:`PbVote.fields`.

Costs and the budget are exact :class:`~fractions.Fraction` (``4000.0`` and
``2572946.76`` occur in real files; a decimal comma is accepted as pabutools does).
Malformed input raises :class:`PabulibError` naming the file and 1-based line.

:func:`read_pabulib` / :func:`parse_pabulib` read, :func:`write_pabulib` /
:func:`format_pabulib` write; ``parse(format(x)) == x`` for any instance.
:func:`allocation_problem` turns an instance into an
:class:`~engine.rules.problem.AllocationProblem` (integer money, see its ``scale``).
"""

from __future__ import annotations

import csv
import gc
import io
import math
import re
from collections import Counter
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from engine.model.ids import ProjectId

if TYPE_CHECKING:  # imported lazily at run time (reading a file needs neither numpy nor the rules)
    from engine.rules.problem import AllocationProblem
    from engine.rules.profile import ApprovalProfile

from engine.errors import PabulibError

VOTE_TYPES = ("approval", "choose-1", "cumulative", "scoring", "ordinal")
REQUIRED_META = ("num_projects", "num_votes", "budget", "vote_type")
SECTIONS = ("META", "PROJECTS", "VOTES")


@dataclass(frozen=True)
class PbProject:
    """One row of a pabulib ``PROJECTS`` section: id, cost, and every other column verbatim."""

    project_id: str
    cost: Fraction
    fields: dict[str, str] = field(default_factory=dict)  # every other column, verbatim


@dataclass(frozen=True, slots=True)
class PbVote:
    """One row of a pabulib ``VOTES`` section: the voter, the projects voted for (most preferred
    first for ordinal ballots), the points (cumulative or scoring), other columns and the source line.
    """

    voter_id: str
    vote: tuple[str, ...]  # project ids; for ordinal, most preferred first
    points: tuple[Fraction, ...] | None = None  # cumulative / scoring
    fields: dict[str, str] = field(default_factory=dict)
    line: int = field(default=0, compare=False)  # 1-based line in the source file (0: not read)


@dataclass(frozen=True)
class PbInstance:
    """A parsed pabulib file: the ``META`` key/values, projects, votes, the column names of each
    section (for writing back) and the quirks tolerated while reading.
    """

    meta: dict[str, str]
    projects: tuple[PbProject, ...]
    votes: tuple[PbVote, ...]
    project_columns: tuple[str, ...] = ("project_id", "cost")
    vote_columns: tuple[str, ...] = ("voter_id", "vote")
    warnings: tuple[str, ...] = field(default=(), compare=False)  # tolerated quirks, by line

    @property
    def budget(self) -> Fraction:
        """The ``budget`` of ``META`` as an exact number."""
        return parse_number(self.meta["budget"])

    @property
    def vote_type(self) -> str:
        """``META`` ``vote_type`` (approval, cumulative, scoring, ordinal)."""
        return self.meta["vote_type"]

    @property
    def rule(self) -> str:
        """``META`` ``rule`` (the rule the city used, e.g. ``greedy``); "" when absent."""
        return self.meta.get("rule", "")

    def project(self, project_id: str) -> PbProject | None:
        """The project with this id, or None. O(projects)."""
        for p in self.projects:
            if p.project_id == project_id:
                return p
        return None

    def official_selection(self) -> tuple[str, ...] | None:
        """Project ids with ``selected`` = 1 (``2`` marks other funding); None if no column."""
        if "selected" not in self.project_columns:
            return None
        return tuple(p.project_id for p in self.projects if p.fields.get("selected", "").strip() == "1")


def parse_number(text: str) -> Fraction:
    """Exact value of a pabulib number (``1000``, ``4000.0``, ``2572946,76``)."""
    return Fraction(text.strip().replace(",", "."))


def _rows(lines: Iterable[str], source: str = "<pb>", offset: int = 0) -> Generator[tuple[int, list[str]], None, None]:
    reader = csv.reader(lines, delimiter=";", quotechar='"')
    try:
        for row in reader:
            yield offset + reader.line_num, row
    except csv.Error as exc:  # NUL byte, stray newline in a field...
        raise PabulibError(source, offset + reader.line_num + 1, f"unreadable line: {exc}") from None


def _rest_rows(lines: Iterator[str], source: str, offset: int) -> Iterator[tuple[int, list[str]]]:
    """Rows of the lines after line ``offset`` (the VOTES section): the bulk of a file.

    Fast path: when the text has no quote, carriage return or NUL, the ``csv`` module would
    split each line on ``;`` and nothing else, so ``str.split`` gives the same rows (tested
    against ``csv.reader`` in tests/unit/test_pabulib.py); otherwise ``csv.reader`` reads it.
    """
    rest = list(lines)
    text = "".join(rest)
    if '"' in text or "\r" in text or "\0" in text:
        yield from _rows(rest, source, offset)
        return
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()  # the final newline ends the last line; it does not start another
    for i, line in enumerate(parts, start=offset + 1):
        yield i, line.split(";")


def parse_pabulib(text: str | Iterable[str], source: str = "<pb>") -> PbInstance:
    """Parse ``.pb`` text (a string or an iterable of lines).

    The cyclic garbage collector is paused while parsing: a large file allocates a few
    containers per ballot and no reference cycles, and the collections those allocations
    trigger (each one walking every ballot read so far) took half the parse time of Łódź
    2022 (90,494 ballots). O(size of the file).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, source)
    finally:
        if enabled:
            gc.enable()


def _parse(text: str | Iterable[str], source: str) -> PbInstance:
    lines = iter(io.StringIO(text) if isinstance(text, str) else text)
    section = ""
    header: list[str] | None = None
    meta: dict[str, str] = {}
    projects: list[PbProject] = []
    votes: list[PbVote] = []
    project_columns: tuple[str, ...] = ()
    vote_columns: tuple[str, ...] = ()
    seen_sections: list[str] = []
    seen_projects: set[str] = set()
    point_index = -1
    warnings: list[str] = []
    line_no = 0
    rows = _rows(lines, source)
    for line_no, row in rows:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        first = row[0].strip()
        if len(row) == 1 and first.upper() in SECTIONS:
            name = first.upper()
            expected = SECTIONS[len(seen_sections)] if len(seen_sections) < 3 else None
            if name != expected:
                raise PabulibError(source, line_no, f"section {name} out of order (expected {expected})")
            seen_sections.append(name)
            section, header = name, None
            continue
        if not section:
            raise PabulibError(source, line_no, "expected the META section title first")
        if header is None:
            header = [h.strip() for h in row]
            if section == "META":
                if header[:2] != ["key", "value"]:
                    raise PabulibError(source, line_no, "META header must be 'key;value'")
            elif section == "PROJECTS":
                for col in ("project_id", "cost"):
                    if col not in header:
                        raise PabulibError(source, line_no, f"PROJECTS header lacks '{col}'")
                project_columns = tuple(header)
            else:
                for col in ("voter_id", "vote"):
                    if col not in header:
                        raise PabulibError(source, line_no, f"VOTES header lacks '{col}'")
                vote_columns = tuple(header)
                point_index = header.index("points") if "points" in header else -1
                rows.close()  # the csv reader read no further than this line
                line_no = _read_votes(
                    _rest_rows(lines, source, line_no), source, header, meta, seen_projects, votes, warnings
                ) or line_no
                break
            continue
        if len(row) != len(header):
            raise PabulibError(
                source, line_no, f"{len(row)} fields, the {section} header has {len(header)}"
            )
        if section == "META":
            key = row[0].strip()
            if key in meta:
                raise PabulibError(source, line_no, f"duplicate META key {key!r}")
            meta[key] = row[1].strip()
        elif section == "PROJECTS":
            rec = dict(zip(header, row, strict=True))
            pid = rec.pop("project_id").strip()
            if not pid:
                raise PabulibError(source, line_no, "empty project_id")
            if pid in seen_projects:
                raise PabulibError(source, line_no, f"duplicate project_id {pid!r}")
            seen_projects.add(pid)
            raw_cost = rec.pop("cost")
            try:
                cost = parse_number(raw_cost)
            except (ValueError, ZeroDivisionError):
                raise PabulibError(source, line_no, f"project {pid!r}: cost {raw_cost!r} is not a number") from None
            if cost < 0:
                raise PabulibError(source, line_no, f"project {pid!r}: negative cost {raw_cost!r}")
            projects.append(PbProject(pid, cost, rec))
        else:  # pragma: no cover - VOTES rows are read by _read_votes
            raise AssertionError("unreachable")
    if len(seen_sections) < 3:
        missing = ", ".join(s for s in SECTIONS if s not in seen_sections)
        raise PabulibError(source, line_no, f"missing section(s): {missing}")
    for key in REQUIRED_META:
        if key not in meta:
            raise PabulibError(source, 0, f"META lacks required key {key!r}")
    if meta["vote_type"] not in VOTE_TYPES:
        raise PabulibError(source, 0, f"unknown vote_type {meta['vote_type']!r}; one of {', '.join(VOTE_TYPES)}")
    try:
        parse_number(meta["budget"])
    except (ValueError, ZeroDivisionError):
        raise PabulibError(source, 0, f"META budget {meta['budget']!r} is not a number") from None
    if meta["vote_type"] in ("cumulative", "scoring") and point_index < 0 and votes:
        raise PabulibError(source, 0, f"vote_type {meta['vote_type']} needs a 'points' column in VOTES")
    return PbInstance(meta, tuple(projects), tuple(votes), project_columns, vote_columns, tuple(warnings))


def _read_votes(
    rows: Iterator[tuple[int, list[str]]],
    source: str,
    header: list[str],
    meta: dict[str, str],
    seen_projects: set[str],
    votes: list[PbVote],
    warnings: list[str],
) -> int:
    """Read the VOTES rows into ``votes``; returns the last line number read (0: none).

    The hot loop of the parser (one iteration per voter): no per-row dict but the voter's
    own extra fields (a dict of strings, which the garbage collector does not track), one set
    per ballot (duplicates and unknown projects checked on it), one slotted :class:`PbVote`.
    """
    voter_index, vote_index = header.index("voter_id"), header.index("vote")
    point_index = header.index("points") if "points" in header else -1
    other = [(i, h) for i, h in enumerate(header) if h not in ("voter_id", "vote", "points")]
    width = len(header)
    ordinal_or_points = point_index >= 0 or meta.get("vote_type") == "ordinal"
    seen_voters: set[str] = set()
    add_voter = seen_voters.add
    append = votes.append
    line_no = 0
    for line_no, row in rows:
        if len(row) != width:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) == 1 and row[0].strip().upper() in SECTIONS:
                raise PabulibError(source, line_no, f"section {row[0].strip().upper()} out of order (expected None)")
            raise PabulibError(source, line_no, f"{len(row)} fields, the VOTES header has {width}")
        voter = row[voter_index].strip()
        if voter in seen_voters:
            raise PabulibError(source, line_no, f"duplicate voter_id {voter!r}")
        add_voter(voter)
        raw_vote = row[vote_index].strip()
        if not raw_vote:
            chosen: tuple[str, ...] = ()
        elif " " in raw_vote:
            chosen = tuple(x.strip() for x in raw_vote.split(","))
        else:
            chosen = tuple(raw_vote.split(","))
        as_set = set(chosen)
        if not seen_projects.issuperset(as_set):
            pid = next(x for x in chosen if x not in seen_projects)
            raise PabulibError(source, line_no, f"voter {voter!r}: unknown project {pid!r}")
        if len(as_set) != len(chosen):
            if ordinal_or_points:
                raise PabulibError(source, line_no, f"voter {voter!r}: a project is listed twice")
            # approval ballots are sets (as in pabutools): count each project once
            chosen = tuple(dict.fromkeys(chosen))
            warnings.append(f"{source}:{line_no}: voter {voter!r} lists a project twice; counted once")
        points: tuple[Fraction, ...] | None = None
        if point_index >= 0:
            raw_points = row[point_index].strip()
            try:
                points = tuple(parse_number(x) for x in raw_points.split(",")) if raw_points else ()
            except (ValueError, ZeroDivisionError):
                raise PabulibError(
                    source, line_no, f"voter {voter!r}: points {raw_points!r} are not numbers"
                ) from None
            if len(points) != len(chosen):
                raise PabulibError(
                    source, line_no,
                    f"voter {voter!r}: {len(chosen)} projects but {len(points)} points",
                )
        append(PbVote(voter, chosen, points, {h: row[i] for i, h in other}, line_no))
    return line_no


def read_pabulib(path: str | Path) -> PbInstance:
    """Read a ``.pb`` file; errors name the file and line."""
    p = Path(path)
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            return parse_pabulib(fh, p.name)
    except OSError as exc:
        raise PabulibError(str(p), 0, f"cannot read file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PabulibError(str(p), 0, f"not UTF-8 text: {exc.reason}") from exc


# --------------------------------------------------------------------------- writing


def format_number(x: Fraction) -> str:
    """Integers without a decimal point, other values as exact decimals."""
    if x.denominator == 1:
        return str(x.numerator)
    den = x.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        return repr(float(x))
    places = max(twos, fives)
    scaled = x * 10**places
    assert scaled.denominator == 1
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def format_pabulib(inst: PbInstance) -> str:
    """The ``.pb`` text of an instance (META in its key order, columns as read)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", quotechar='"', lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    buf.write("META\n")
    w.writerow(["key", "value"])
    for k, v in inst.meta.items():
        w.writerow([k, v])
    buf.write("PROJECTS\n")
    w.writerow(inst.project_columns)
    for p in inst.projects:
        vals = {"project_id": p.project_id, "cost": format_number(p.cost), **p.fields}
        w.writerow([vals.get(c, "") for c in inst.project_columns])
    buf.write("VOTES\n")
    w.writerow(inst.vote_columns)
    for vote in inst.votes:
        vals = {"voter_id": vote.voter_id, "vote": ",".join(vote.vote), **vote.fields}
        if vote.points is not None:
            vals["points"] = ",".join(format_number(x) for x in vote.points)
        w.writerow([vals.get(c, "") for c in inst.vote_columns])
    return buf.getvalue()


def write_pabulib(inst: PbInstance, path: str | Path) -> Path:
    """Write ``inst`` to ``path`` in pabulib format (:func:`format_pabulib`); returns the path."""
    p = Path(path)
    p.write_text(format_pabulib(inst), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- to rules


def money_scale(values: Iterable[Fraction]) -> int:
    """Smallest integer ``s`` with ``s * v`` integral for every value (1 for whole money)."""
    s = 1
    for v in values:
        s = math.lcm(s, v.denominator)
    return s


# META ``rule`` values -> pbcount rule names (None: no equivalent, pass --rule)
META_RULES: dict[str, str | None] = {
    "greedy": "greedy",
    "greedy-threshold": "greedy",
    "greedy-no-skip": "greedy-stop",
    "equalshares": "mes",
    "equalshares-comparison": "mes-comparison",
    "equalshares/add1": "mes-add1",
    "equalshares/add1-comparison": "mes-add1-comparison",
    "greedy-exclusive": "greedy-exclusive",  # only with an exclusive_group column, see official_rule
    "greedy-custom": None,  # greedy-stop where the file says so, see official_rule
    "unknown": None,
}

# A greedy-custom comment describing greedy-no-skip (Poznań 2026: "we fund projects that received
# the highest number of votes until the next project on the list does not fit within the budget")
_NO_SKIP_COMMENT = re.compile(r"\buntil the next project\b[^.]*\bdoes not fit\b", re.IGNORECASE)


def official_rule(inst: PbInstance) -> str:
    """The pbcount rule matching the file's META ``rule``; ValueError if there is none.

    ``greedy-exclusive`` needs the PROJECTS column ``exclusive_group`` (pabulib files give
    the exclusions in their comment only). ``greedy-custom`` on a ``choose-1`` file whose
    comment says projects are funded in order of votes until the next one does not fit is
    ``greedy-stop`` (anything the comment adds on top, such as Poznań's reserve funds marked
    ``selected = 2``, is outside the budget and not reproduced).
    """
    meta_rule = inst.rule
    if meta_rule not in META_RULES:
        raise ValueError(f"META rule {meta_rule!r} is not a pabulib rule name")
    if meta_rule == "greedy-exclusive" and "exclusive_group" not in inst.project_columns:
        raise ValueError("META rule 'greedy-exclusive': the file does not say which projects exclude each other "
                         "(add an 'exclusive_group' column to PROJECTS), or choose a rule with --rule")
    if (meta_rule == "greedy-custom" and inst.vote_type == "choose-1"
            and _NO_SKIP_COMMENT.search(inst.meta.get("comment", ""))):
        return "greedy-stop"
    ours = META_RULES[meta_rule]
    if ours is None:
        raise ValueError(
            f"META rule {meta_rule!r} is a local rule pbcount does not implement; choose one with --rule"
        )
    return ours


def project_scores(inst: PbInstance, score: str = "auto") -> list[float]:
    """Score of each project (file order).

    ``auto``: approval and choose-1 count ballots; cumulative and scoring sum points;
    ordinal uses the PROJECTS ``score`` column when present, else counts ballots.
    ``votes`` counts ballots whatever the type; ``points`` sums points; ``file-votes`` /
    ``file-score`` use the PROJECTS column of that name.
    """
    index = {p.project_id: j for j, p in enumerate(inst.projects)}
    vt = inst.vote_type
    if score == "auto":
        if vt in ("cumulative", "scoring"):
            score = "points"
        elif vt == "ordinal" and "score" in inst.project_columns:
            score = "file-score"
        else:
            score = "votes"
    if score.startswith("file-"):
        col = score[5:]
        if col not in inst.project_columns:
            raise ValueError(f"PROJECTS has no {col!r} column")
        return [float(parse_number(p.fields[col] or "0")) for p in inst.projects]
    out = [0.0] * len(inst.projects)
    if score == "votes":
        counts = Counter(pid for v in inst.votes for pid in v.vote)
        return [float(counts[p.project_id]) for p in inst.projects]
    if score == "points":
        for v in inst.votes:
            pts = v.points or (Fraction(1),) * len(v.vote)
            for pid, x in zip(v.vote, pts, strict=True):
                out[index[pid]] += float(x)
        return out
    raise ValueError(f"unknown score {score!r}; one of auto, votes, points, file-votes, file-score")


def approval_profile(inst: PbInstance) -> ApprovalProfile:
    """The voters' approvals (every listed project counts as approved) as a numpy profile."""
    import numpy as np

    from engine.rules.profile import ApprovalProfile

    index = {p.project_id: j for j, p in enumerate(inst.projects)}.__getitem__
    lengths = np.array([len(v.vote) for v in inst.votes], dtype=np.int64)
    flat = np.array([index(pid) for v in inst.votes for pid in v.vote], dtype=np.int64)
    return ApprovalProfile.from_flat(len(inst.projects), lengths, flat)


def allocation_problem(
    inst: PbInstance, score: str = "auto", with_profile: bool = True, apply_threshold: bool = True
) -> AllocationProblem:
    """An AllocationProblem for the instance: integer money (``unit`` units per currency unit),
    scores per :func:`project_scores`, the META ``min_project_score_threshold`` if any (unless
    ``apply_threshold`` is false, as pabutools does)."""
    from engine.rules.problem import AllocationProblem

    unit = money_scale([inst.budget, *(p.cost for p in inst.projects)])
    profile = approval_profile(inst) if with_profile else None
    raw_threshold = inst.meta.get("min_project_score_threshold", "").strip()
    threshold = float(parse_number(raw_threshold)) if raw_threshold and apply_threshold else 0.0
    return AllocationProblem(
        project_ids=tuple(ProjectId(p.project_id) for p in inst.projects),
        costs=tuple(int(p.cost * unit) for p in inst.projects),
        scores=_scores(inst, score, profile),
        budget=int(inst.budget * unit),
        threshold=threshold,
        unit=unit,
        profile=profile if with_profile else None,
    )


def read_pabulib_meta(path: str | Path) -> dict[str, str]:
    """Only the META section of a ``.pb`` file (fast: stops at PROJECTS)."""
    p = Path(path)
    meta: dict[str, str] = {}
    with p.open(encoding="utf-8-sig", newline="") as fh:
        for line_no, row in _rows(fh):
            if len(row) == 1 and row[0].strip().upper() == "PROJECTS":
                return meta
            if line_no <= 2 or len(row) < 2:
                continue
            meta[row[0].strip()] = row[1].strip()
    raise PabulibError(p.name, 0, "no PROJECTS section")


def _scores(inst: PbInstance, score: str, profile: ApprovalProfile | None) -> tuple[float, ...]:
    """project_scores, reusing the approval profile's counts when the score is a vote count."""
    counts_votes = score == "votes" or (score == "auto" and (
        inst.vote_type in ("approval", "choose-1")
        or (inst.vote_type == "ordinal" and "score" not in inst.project_columns)))
    if profile is not None and counts_votes:
        return tuple(float(x) for x in profile.approval_counts())
    return tuple(project_scores(inst, score))
