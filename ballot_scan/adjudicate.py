"""Adjudication: a person decides a page the scanner sent to review.

``resolve`` turns the item into a paper ballot with the selections the adjudicator read,
through the same engine path as a scanned ballot (:func:`ballot_scan.decide.paper_ballot`
-> :meth:`engine.storage.store.Store.commit_chunk`); ``reject`` records that the page is
not counted (a rejection with reason ``rejected_by_adjudication``). Both record who,
when and why on the item and append to the hash-chained audit log. A decision is final:
deciding an item twice is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from ballot_scan.decide import paper_ballot
from ballot_scan.grid import sheet_submission
from engine.counting.dedup import check_paper_allowed
from engine.errors import PbcountError, ReceiptInputError
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef
from engine.model.election import Election, Project
from engine.model.opinions import SEPARATOR, split_item
from engine.model.receipts import parse_stub
from engine.model.tokens import TokenVerifier
from engine.storage.review_store import ACCEPTED, PENDING, REJECTED, ReviewItem, ReviewStore
from engine.storage.store import Store


class AdjudicationError(PbcountError):
    """A review decision that cannot be recorded (names the item and the reason)."""

    pass


def resolve(
    store: Store,
    verifier: TokenVerifier,
    item_id: int,
    selections: Sequence[str],
    by: str,
    note: str | None = None,
    *,
    token: str | None = None,
    ballot_serial: str | None = None,
) -> tuple[ReviewItem, Ballot]:
    """Accept review item ``item_id`` with ``selections``; returns the item and the ballot.

    On a grade or for/against grid the selections are ``project=opinion`` items
    (``P012=J'adore``, ``P012=against``), one per project given an opinion; an empty row
    counts as the envelope's default, as on a scanned grid.
    ``token`` / ``ballot_serial`` supply what the scanner could not read (from the paper).
    The selections are validated like any ballot; an invalid choice is refused, not stored.
    """
    reviews, item = _pending_item(store, item_id, by)
    election = store.election()
    check_paper_allowed(election.precedence)
    env_id = item.envelope_id
    if env_id is None:
        envs = {p.envelope for p in (_project_of(election, s) for s in selections) if p is not None}
        if len(envs) != 1:
            raise AdjudicationError(f"item {item_id}: envelope unknown; selections must name projects of one envelope")
        env_id = envs.pop()
    tok = token or item.token
    if tok is None:
        raise AdjudicationError(f"item {item_id}: the voter token was not read; give it with --token")
    serial = ballot_serial or item.ballot_serial
    if serial is None:
        raise AdjudicationError(f"item {item_id}: the ballot serial was not read; give it with --ballot-serial")
    try:
        serial = parse_stub(serial)  # as printed on the stub; a typo is caught by the check symbol
    except ReceiptInputError as exc:
        raise AdjudicationError(f"item {item_id}: ballot serial: {exc}") from None
    env = election.envelope(env_id)
    if env is None:
        raise AdjudicationError(f"item {item_id}: envelope {env_id!r} is not in election {election.id!r}")
    try:
        sub = sheet_submission(tok, env, selections, SourceRef(item.source_name, item.source_line),
                               item.image_sha256, serial)
    except ValueError as exc:  # a grid item that is not project=opinion of this envelope
        raise AdjudicationError(f"item {item_id}: {exc}") from None
    res = paper_ballot(election, verifier, sub)
    if isinstance(res, Rejection):
        raise AdjudicationError(f"item {item_id}: {res.reason}: {res.detail}")
    outcome = store.commit_chunk(None, item.image_sha256, [res])
    if not outcome.inserted:
        raise AdjudicationError(
            f"item {item_id}: ballot serial {serial} (receipt {res.receipt_id}) is already counted; "
            "reject this item if it is a rescan or a copy of a counted ballot")
    decided = reviews.decide(item_id, ACCEPTED, by, note, list(selections))
    store.append_audit(by, "review_resolved", {
        "review_id": item_id, "image_sha256": item.image_sha256, "envelope": env_id,
        "reasons": item.reasons, "proposed": item.proposed_selections, "final": sorted(selections),
        "note": note or "", "ballot_key": res.ballot_key, "receipt_id": res.receipt_id,
    })
    return decided, res


def _project_of(election: Election, item: str) -> Project | None:
    """The project an adjudicator's item names: a project id, or a grid's ``project=opinion``."""
    found = election.project(item)
    if found is None and SEPARATOR in item:
        found = election.project(split_item(item)[0])
    return found


def reject(store: Store, item_id: int, by: str, note: str | None = None) -> ReviewItem:
    """Reject review item ``item_id``: the page is not counted; the reason is recorded."""
    reviews, item = _pending_item(store, item_id, by)
    rej = Rejection(SourceRef(item.source_name, item.source_line), "rejected_by_adjudication",
                    f"rejected by {by}: {note or 'no note'}", Channel.PAPER)
    store.commit_chunk(None, item.image_sha256, [rej])
    decided = reviews.decide(item_id, REJECTED, by, note, None)
    store.append_audit(by, "review_rejected", {
        "review_id": item_id, "image_sha256": item.image_sha256, "reasons": item.reasons, "note": note or "",
    })
    return decided


def _pending_item(store: Store, item_id: int, by: str) -> tuple[ReviewStore, ReviewItem]:
    """The review store and item ``item_id``, refusing an empty ``by`` or an item already decided."""
    if not by.strip():
        raise AdjudicationError("every decision names its author: the name of the person deciding is empty")
    reviews = ReviewStore(store)
    item = reviews.get(item_id)
    if item.status != PENDING:
        raise AdjudicationError(f"review item {item_id} was already {item.status} by {item.decided_by}")
    return reviews, item
