"""Decidim budgets: its pabulib export in, paper totals out (pure functions).

Formats, as documented by the projects (cited in docs/platforms.md):

* **Budget export** (decidim-budgets ``Decidim::Budgets::Pabulib::Exporter`` / ``Writer``):
  a pabulib ``.pb`` file, one per budget: ``META`` (``key;value`` rows: description,
  country, unit, num_projects, num_votes, budget, vote_type, rule, date_begin/date_end as
  ``DD.MM.YYYY``, min_length, max_length...), ``PROJECTS`` (``project_id;cost;votes;name;
  selected``; older releases ``project_id;name;cost;votes;selected``: columns are read by
  name) and ``VOTES`` (``voter_id;vote``): the voter id is the **order id**, anonymised on
  purpose, and the vote the comma-separated project ids of that checked-out order.
* **Paper totals** (the community module decidim-module-budgets_paper_ballots): a CSV with
  the columns ``id`` (project id; ``project_id`` for Decidim 0.25) and
  ``paper_ballots_to_import`` (votes to add), separated by ``;`` (Decidim's
  ``default_csv_col_sep``). Each import *adds* to what is there; a negative number corrects.

An order becomes an online :class:`~engine.model.ballots.Submission` validated like any
e-vote. Its voter is either a real pbcount token (an ``order_id,token`` map built by city
IT: then the order is deduplicated against the voter's paper ballot by the election's
precedence rule) or, without one, the order itself (:data:`ORDER_TOKEN_PREFIX`): a voter
serial derived from the envelope and order id, stable across re-imports, never equal to a
real token's serial.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from engine.errors import PabulibError, PlatformFileError, TokenError
from engine.formats.pabulib import PbInstance, parse_pabulib
from engine.formats.platform_ids import ProjectMap, read_csv_rows
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, Submission, validate_submission
from engine.model.election import Election, VotingPolicy
from engine.model.ids import ReceiptId
from engine.model.tokens import SERIAL_BYTES, TokenVerifier, VoterToken

ORDER_TOKEN_PREFIX = "decidim-order:"
PAPER_COLUMNS = ("id", "paper_ballots_to_import")


@dataclass(frozen=True)
class DecidimOrder:
    """One checked-out order of the export: its id, Decidim project ids and line."""

    order_id: str
    project_ids: tuple[str, ...]  # Decidim project ids, as in the file
    line: int


@dataclass(frozen=True)
class DecidimBudget:
    """One Decidim budget export: META, projects (Decidim id -> fields) and checked-out orders."""

    source: str
    meta: dict[str, str]
    projects: dict[str, dict[str, str]]
    orders: tuple[DecidimOrder, ...]
    instance: PbInstance  # META and PROJECTS as a pabulib instance with no votes (for an election)

    def online_votes(self) -> dict[str, int]:
        """Decidim's own count per project (the ``votes`` column; 0 when absent)."""
        return {pid: int(f.get("votes") or 0) for pid, f in self.projects.items()}


def read_decidim_export(text: str, source: str) -> DecidimBudget:
    """Parse a Decidim budget export; raise :class:`PlatformFileError` naming the line when it
    is not one (bad pabulib, not an approval vote, no ``voter_id;vote`` columns). O(size)."""
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    votes_at = next((i for i, line in enumerate(lines) if line.strip().upper() == "VOTES"), len(lines))
    head = "\n".join(lines[:votes_at]) + "\nVOTES\nvoter_id;vote\n"
    try:  # META and PROJECTS strictly; the orders one by one below (a bad order is a rejection)
        inst = parse_pabulib(head, source)
    except PabulibError as exc:
        raise PlatformFileError(exc.source, exc.line, exc.message) from None
    if inst.vote_type != "approval":
        raise PlatformFileError(source, 0, f"vote_type {inst.vote_type!r}: Decidim budgets export approval votes")
    orders: list[DecidimOrder] = []
    if votes_at < len(lines):
        rows = csv.reader(lines[votes_at + 1:], delimiter=";")
        try:
            header = [h.strip() for h in next(rows, [])]
            if header[:2] != ["voter_id", "vote"]:
                raise PlatformFileError(source, votes_at + 2, f"VOTES columns {';'.join(header)}: a Decidim "
                                        "export has voter_id;vote (order id; project ids)")
            for n, row in enumerate(rows, start=votes_at + 3):
                if not row or row == [""]:
                    continue
                vote = row[1] if len(row) > 1 else ""
                orders.append(DecidimOrder(row[0].strip(), tuple(x.strip() for x in vote.split(",") if x.strip()), n))
        except csv.Error as exc:
            raise PlatformFileError(source, votes_at + 2, f"unreadable VOTES: {exc}") from None
    projects = {p.project_id: {"cost": str(p.cost), **p.fields} for p in inst.projects}
    return DecidimBudget(source, dict(inst.meta), projects, tuple(orders), inst)


class OrderTokenVerifier(TokenVerifier):
    """Verifies the voter of a Decidim order: a real token through ``real`` (the authority's
    verifier), or an order placeholder ``decidim-order:<envelope>:<order id>``, whose serial
    is the first 10 bytes of its SHA-256 (80 bits: as unlikely to meet a random token serial
    as two random serials are to meet)."""

    def __init__(self, election_id: str, real: TokenVerifier | None) -> None:  # noqa: D107
        self.election_id = election_id
        self.real = real

    def verify(self, text: object) -> VoterToken:
        """The voter token of an order placeholder, or ``real.verify(text)``."""
        if isinstance(text, str) and text.startswith(ORDER_TOKEN_PREFIX):
            return VoterToken(self.election_id, hashlib.sha256(text.encode()).digest()[:SERIAL_BYTES], text)
        if self.real is None:
            raise TokenError("token_malformed", "an order mapped to a token needs the authority's public key")
        return self.real.verify(text)


def read_order_tokens(text: str, source: str) -> dict[str, str]:
    """An ``order_id,token`` map (docs/platforms.md); an order given twice is an error."""
    out: dict[str, str] = {}
    for line, row in read_csv_rows(text, source, ("order_id", "token")):
        oid, tok = row["order_id"], row["token"]
        if not oid and not tok:
            continue
        if not oid or not tok:
            raise PlatformFileError(source, line, "order_id and token are both needed")
        if oid in out:
            raise PlatformFileError(source, line, f"order {oid} is mapped twice")
        out[oid] = tok
    return out


def default_cast_time(meta: Mapping[str, str], voting: VotingPolicy) -> str:
    """The cast time given to every order (the export has none per order): noon UTC of
    ``date_end`` (``DD.MM.YYYY``), moved inside the election's voting period when it declares
    one (its last microsecond when the day is after it). Raises ValueError without either."""
    text = meta.get("date_end", "").strip()
    if text:
        day = datetime.strptime(text, "%d.%m.%Y").replace(hour=12, tzinfo=UTC)
        cast = day.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    elif voting.closes_utc is None:
        raise ValueError("the export has no date_end and the election no voting period: give a cast time")
    else:
        cast = voting.closes_utc
    if voting.opens_utc is not None and voting.closes_utc is not None:
        if cast < voting.opens_utc:
            cast = voting.opens_utc
        elif cast >= voting.closes_utc:
            cast = _one_microsecond_before(voting.closes_utc)
    return cast


def _one_microsecond_before(utc_text: str) -> str:
    t = datetime.fromisoformat(utc_text[:-1]) - timedelta(microseconds=1)
    return t.isoformat(timespec="microseconds") + "Z"


def decidim_ballots(
    budget: DecidimBudget, election: Election, envelope_id: str, projects: ProjectMap,
    order_tokens: Mapping[str, str], verifier: OrderTokenVerifier, cast_at: str,
    receipt: Callable[[str], ReceiptId] | None = None,
) -> list[Ballot | Rejection]:
    """Each order of ``budget`` as an online ballot of ``envelope_id`` -- or a rejection with
    the file, line and reason (order id not a positive integer or repeated, a project that is
    not in the map or not in the envelope, any failing rule of the envelope). O(orders)."""
    out: list[Ballot | Rejection] = []
    seen: dict[str, int] = {}
    for order in budget.orders:
        src = SourceRef(budget.source, order.line)
        if not order.order_id.isdigit():
            out.append(Rejection(src, "malformed_line", f"order id {order.order_id!r} is not a Decidim order id"))
            continue
        if order.order_id in seen:
            out.append(Rejection(src, "duplicate_submission",
                                 f"order {order.order_id} already on line {seen[order.order_id]}"))
            continue
        seen[order.order_id] = order.line
        chosen: list[str] = []
        bad = None
        for ext in order.project_ids:
            pid = projects.to_project.get(ext)
            if pid is None:
                bad = Rejection(src, "unknown_project", f"order {order.order_id}: Decidim project {ext} is not "
                                f"a project of election {election.id!r} (nor in the project map)")
                break
            chosen.append(pid)
        if bad is not None:
            out.append(bad)
            continue
        token = order_tokens.get(order.order_id, f"{ORDER_TOKEN_PREFIX}{envelope_id}:{order.order_id}")
        sub = Submission(token, Channel.ONLINE, {envelope_id: chosen}, src, cast_at=cast_at)
        result = validate_submission(election, verifier, sub, receipt)
        if isinstance(result, Rejection) and result.reason == "empty_ballot":
            result = Rejection(src, "empty_ballot", f"order {order.order_id} selects no project", Channel.ONLINE)
        out.append(result)
    return out


def paper_totals_csv(
    paper_votes: Mapping[str, int], projects: ProjectMap, *,
    decidim_online: Mapping[str, int] | None = None, counted_total: Mapping[str, int] | None = None,
    already_imported: Mapping[str, int] | None = None,
) -> str:
    """The module's ``id;paper_ballots_to_import`` CSV, one row per project, by Decidim id.

    The value is pbcount's paper votes of the project; with ``decidim_online`` (the votes
    column of the Decidim export) and ``counted_total`` (pbcount's total) it is instead
    ``counted_total - decidim_online``, which makes Decidim's displayed total equal pbcount's
    (negative when online orders were superseded by paper ballots). ``already_imported``
    (a previous file of this function) is subtracted: import the difference only, as the
    module adds each import to the last."""
    rows = []
    for pid, paper in paper_votes.items():
        ext = projects.platform_id(pid)
        value = paper
        if decidim_online is not None and counted_total is not None:
            value = counted_total[pid] - decidim_online.get(ext, 0)
        if already_imported is not None:
            value -= already_imported.get(ext, 0)
        rows.append((ext, value))
    rows.sort(key=lambda r: (int(r[0]) if r[0].isdigit() else 10**18, r[0]))
    return "id;paper_ballots_to_import\n" + "".join(f"{ext};{n}\n" for ext, n in rows)


def read_paper_totals(text: str, source: str) -> dict[str, int]:
    """Read a paper-totals CSV as the module does (``id`` or ``project_id``; other columns
    ignored) but strictly: a value that is not an integer, or an id given twice, is an error
    naming the line (the module would import ``to_i`` of it, 0 for ``abc``)."""
    head = text.removeprefix("\ufeff").split("\n", 1)[0]
    id_col = "project_id" if "project_id" in head.replace(" ", "").split(";") and "id" not in \
        head.replace(" ", "").split(";") else "id"
    out: dict[str, int] = {}
    for line, row in read_csv_rows(text, source, (id_col, "paper_ballots_to_import")):
        ext, value = row[id_col], row["paper_ballots_to_import"]
        if not ext and not value:
            continue
        try:
            n = int(value)
        except ValueError:
            raise PlatformFileError(source, line, f"paper_ballots_to_import {value!r} is not an integer") from None
        if ext in out:
            raise PlatformFileError(source, line, f"project {ext} appears twice")
        out[ext] = n
    return out
