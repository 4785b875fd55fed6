"""Decide what happens to a read page: accepted, needs_review or rejected. Never guess.

``decide_page(election, verifier, register, read)`` is a pure function of what was read
(:class:`ballot_scan.read.PageRead`) and the election. Order of checks (first match wins
for *rejected*; every review reason found is reported):

1. nothing readable (no fiducials, rotation/skew beyond limits, undecodable file), a
   QR code that is not a pbcount ballot, a specimen, an envelope code this election does
   not have, or a token that fails verification (forged, foreign election) -> ``rejected``;
2. page not identified (no QR and no readable printed page code), token or ballot
   serial unreadable (QR damaged and the printed short code not validated by its check
   symbol *and* found in the token register), printed page code disagreeing with the QR
   (``envelope_mismatch``), printed boxes not where the layout says
   (``layout_mismatch``), any ambiguous mark, no mark (``blank_ballot``), more marks than
   allowed (``overvote``; on a grade or for/against grid: two boxes of one row,
   ``overvote_row``, :mod:`ballot_scan.grid`), or any other engine validation failure (e.g. category limit)
   -> ``needs_review``;
3. otherwise the page becomes an engine :class:`~engine.model.ballots.Submission` (channel
   ``paper``, the image's SHA-256, the ballot serial) validated by
   :func:`engine.model.ballots.validate_submission`, with the paper receipt id -> ``accepted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ballot_scan.grid import read_grid, sheet_submission
from ballot_scan.image_guard import IMAGE_REASONS
from ballot_scan.payload import SPECIMEN
from ballot_scan.read import PageRead
from engine.errors import TokenError
from engine.model import crockford
from engine.model.ballots import Ballot, Channel, Rejection, SourceRef, Submission, validate_submission
from engine.model.election import Election
from engine.model.opinions import split_item
from engine.model.receipts import paper_receipt_id
from engine.model.tokens import TokenVerifier, parse_short_code

ACCEPTED, NEEDS_REVIEW, REJECTED = "accepted", "needs_review", "rejected"
PARTIAL = "partial"  # a clean page of a multi-page ballot, waiting for its other pages

REASONS: dict[str, str] = {
    # rejected
    "page_unreadable": "the file cannot be decoded as an image",
    **IMAGE_REASONS,  # refused before decoding (ballot_scan/image_guard.py)
    "fiducials_not_found": "corner marks not found: not a ballot page, or cut off",
    "fiducials_inconsistent": "corner marks do not fit the ballot geometry",
    "orientation_unknown": "orientation bar not found",
    "rotation_too_large": "page rotated beyond the limit",
    "skew_too_large": "page skewed beyond the limit",
    "scale_mismatch": "x and y scales differ beyond the limit",
    "resolution_out_of_range": "scan resolution outside 100-1200 dpi",
    "not_a_ballot": "the QR code is not a pbcount ballot code",
    "specimen_ballot": "a specimen ballot (printed without a voter token)",
    "foreign_ballot": "the envelope code belongs to no envelope of this election",
    # needs_review
    "page_unidentified": "neither the QR code nor the printed page code could be read",
    "token_unreadable": "QR damaged and the printed voter code could not be validated",
    "ballot_serial_unreadable": "QR damaged and the printed ballot serial could not be validated",
    "envelope_mismatch": "printed page code disagrees with the QR code",
    "layout_mismatch": "the mark boxes are not where this ballot's layout puts them",
    "ambiguous_mark": "a mark that may not be a vote: small, faint, light, scratched out or crossed out",
    "scanner_streak": "a scanner streak crosses a mark box: clean the scanner and rescan",
    "blank_ballot": "no mark at all",
    "overvote": "more marks than the envelope allows",
    "overvote_row": "two boxes marked on one project row of a grid (two grades, or both for and against)",
    "missing_pages": "a page of a multi-page ballot was not scanned",
    "duplicate_ballot_serial": "this ballot serial was already counted from another image (rescan or copy)",
    "conflicting_sheet": "the voter already has a stored sheet for this envelope: a person decides "
                         "(accepting it too counts neither, see engine/counting/dedup.py)",
}


@dataclass
class PageOutcome:
    """What the scanner decided for one page of one image: accepted, needs_review or rejected,
    with what it read (envelope, selections, serials) and why.
    """

    image: str
    page: int
    image_sha256: str
    status: str
    envelope_id: str | None = None
    selections: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    faint: dict[str, float] = field(default_factory=dict)
    ambiguous: dict[str, str] = field(default_factory=dict)
    features: dict[str, dict[str, object]] = field(default_factory=dict)
    token: str | None = None
    voter_serial: str | None = None
    ballot_serial: str | None = None
    page_no: int | None = None  # page number within the ballot (from the QR / printed code)
    pages: int | None = None
    ballot: Ballot | None = None
    rejection: Rejection | None = None

    def report(self) -> dict[str, object]:
        """The ``--report`` entry of this page."""
        return {
            "image": self.image,
            "page": self.page,
            "status": self.status,
            "envelope": self.envelope_id,
            "selections": sorted(self.selections),
            "reasons": self.reasons,
            "details": self.details,
            "warnings": self.warnings,
            "scores": self.scores,
            "faint": self.faint,
            "ambiguous": self.ambiguous,
            "features": self.features,
            "image_sha256": self.image_sha256,
            "receipt_id": self.ballot.receipt_id if self.ballot else None,
        }


def paper_ballot(election: Election, verifier: TokenVerifier, sub: Submission) -> Ballot | Rejection:
    """Validate a paper submission (same engine function as e-votes) and give it its
    receipt id, derived from the ballot serial printed on the voter's stub."""
    res = validate_submission(election, verifier, sub)
    if isinstance(res, Ballot):
        if not sub.ballot_serial:
            raise ValueError("a paper ballot needs its ballot serial")
        res = replace(res, receipt_id=paper_receipt_id(sub.ballot_serial))
    return res


def _serial_from_code(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return crockford.encode_bytes(parse_short_code(code))
    except TokenError:
        return None


def decide_page(
    election: Election,
    verifier: TokenVerifier,
    register: Mapping[str, str],
    read: PageRead,
) -> PageOutcome:
    """Decide one page (see the module docstring). ``register``: voter serial -> token."""
    out = PageOutcome(read.image, read.page, read.image_sha256, REJECTED,
                      scores=dict(read.scores), faint=dict(read.faint), ambiguous=dict(read.ambiguous),
                      features=dict(read.features))

    def reject(reason: str, detail: str) -> PageOutcome:
        out.status, out.reasons, out.details = REJECTED, [reason], [detail]
        out.rejection = Rejection(SourceRef(read.image, read.page), reason, detail, Channel.PAPER,
                                  out.voter_serial)
        return out

    if read.fatal:
        return reject(read.fatal, read.detail)
    if read.qr_foreign:
        return reject("not_a_ballot", "the QR code does not hold a pbcount ballot payload")
    review: list[str] = []
    details: list[str] = []
    # ---- page identity
    code = read.envelope_code
    if code is None:
        out.status, out.reasons = NEEDS_REVIEW, ["page_unidentified"]
        out.details = [f"QR unreadable and printed page code unreadable (read {read.ocr_page_text!r})"]
        return out
    env = election.envelope_by_code(code)
    if env is None:
        return reject("foreign_ballot", f"envelope code {code!r} is not in election {election.id!r}")
    out.envelope_id = env.id
    out.page_no, out.pages = read.page_no, read.pages
    if read.qr_read and read.ocr_page_code and read.ocr_page_code != f"{code}-{read.page_no}":
        review.append("envelope_mismatch")
        details.append(f"QR says {code}-{read.page_no}, printed code reads {read.ocr_page_code}")
    if read.qr_read and read.ocr_page_code is None:
        out.warnings.append(f"printed page code not read (OCR {read.ocr_page_text!r}); QR used")
    # ---- token and ballot serial
    token = read.token
    serial = read.ballot_serial
    if read.qr_read:
        if token == SPECIMEN:
            return reject("specimen_ballot", "specimen ballot: printed without a voter token")
    else:
        out.warnings.append("QR code unreadable; printed codes read by OCR")
        voter = _serial_from_code(read.ocr_voter_code)
        token = register.get(voter) if voter else None
        if token is None:
            review.append("token_unreadable")
            why = "not in the token register" if voter else "not read or check symbol wrong"
            details.append(f"printed voter code {read.ocr_voter_code!r}: {why}")
        serial = _serial_from_code(read.ocr_serial_code)
        if serial is None:
            review.append("ballot_serial_unreadable")
            details.append(f"printed ballot serial {read.ocr_serial_code!r} not validated")
    out.token, out.ballot_serial = token, serial
    if token is not None:
        try:
            out.voter_serial = verifier.verify(token).serial_text
        except TokenError as exc:
            return reject(exc.reason, str(exc))
    # ---- marks
    if not read.layout_ok:
        review.append("layout_mismatch")
        details.append("printed mark boxes not found where the layout puts them")
    out.selections = sorted(read.votes)
    if read.streaks:
        out.warnings.append(f"{read.streaks} scanner streak column(s) masked: the scanner needs cleaning")
    if any(why == "scanner_streak" for why in read.ambiguous.values()):
        review.append("scanner_streak")
    if any(why != "scanner_streak" for why in read.ambiguous.values()):
        review.append("ambiguous_mark")
    if read.ambiguous:
        for pid, why in sorted(read.ambiguous.items()):
            details.append(f"{pid}: {why} (score {read.scores.get(pid, 0):.3f}, faint {read.faint.get(pid, 0):.3f})")
    if not read.votes and not read.ambiguous:
        review.append("blank_ballot")
        details.append("no mark found")
    if env.ballot != "approval":  # a grid: one mark per row (ballot_scan/grid.py)
        rows = [pid for pid, why in read_grid(env, read.votes, read.ambiguous).review if why == "overvote_row"]
        if rows:
            review.append("overvote_row")
            details += [f"{pid}: {', '.join(sorted(k for k in read.votes if split_item(k)[0] == pid))} marked"
                        for pid in rows]
    elif len(read.votes) > env.max_selections and not (read.pages and read.pages > 1):
        review.append("overvote")
        details.append(f"{len(read.votes)} marks; at most {env.max_selections} allowed in {env.id}")
    if read.pages and read.pages > 1:
        out.warnings.append(f"page {read.page_no} of {read.pages}")
        review = [r for r in review if r != "blank_ballot"]  # judged on the whole ballot
    if review:
        out.status, out.reasons, out.details = NEEDS_REVIEW, review, details
        return out
    assert token is not None and serial is not None
    if read.pages and read.pages > 1:
        out.status = PARTIAL  # one page of several: decided by combine_pages()
        return out
    sub = sheet_submission(token, env, out.selections, SourceRef(read.image, read.page), read.image_sha256, serial)
    res = paper_ballot(election, verifier, sub)
    if isinstance(res, Rejection):
        if res.reason.startswith("token_"):
            return reject(res.reason, res.detail)
        out.status, out.reasons, out.details = NEEDS_REVIEW, [res.reason], [res.detail]
        return out
    out.status, out.ballot = ACCEPTED, res
    return out


def combine_pages(
    election: Election, verifier: TokenVerifier, pages: list[PageOutcome], expected_pages: int
) -> PageOutcome:
    """One outcome for the pages of a multi-page ballot (same ballot serial).

    Accepted only when every page is present and clean; the ballot's image SHA-256 is
    SHA-256 of its pages' hashes in page order. Otherwise it goes to review as a whole.
    """
    import hashlib

    pages = sorted(pages, key=lambda o: o.page_no or 0)
    first = pages[0]
    out = PageOutcome(first.image, first.page, hashlib.sha256(
        "".join(p.image_sha256 for p in pages).encode()).hexdigest(), NEEDS_REVIEW,
        envelope_id=first.envelope_id, token=first.token, voter_serial=first.voter_serial,
        ballot_serial=first.ballot_serial)
    for p in pages:
        out.selections += p.selections
        out.scores.update(p.scores)
        out.faint.update(p.faint)
        out.ambiguous.update(p.ambiguous)
        out.features.update(p.features)
        out.reasons += [r for r in p.reasons if r not in out.reasons]
        out.details += p.details
    out.selections.sort()
    env = election.envelope(first.envelope_id or "")
    if len(pages) < expected_pages:
        out.reasons.append("missing_pages")
        out.details.append(f"{len(pages)} of {expected_pages} pages scanned")
    if env is not None and not out.selections and not out.ambiguous:
        out.reasons.append("blank_ballot")
    if env is not None and env.ballot == "approval" and len(out.selections) > env.max_selections:
        out.reasons.append("overvote")
    if out.reasons or env is None or out.token is None or out.ballot_serial is None:
        out.status = NEEDS_REVIEW
        return out
    sub = sheet_submission(out.token, env, out.selections, SourceRef(first.image, first.page), out.image_sha256,
                           out.ballot_serial)
    res = paper_ballot(election, verifier, sub)
    if isinstance(res, Rejection):
        out.reasons, out.details = [res.reason], [res.detail]
        return out
    out.status, out.ballot = ACCEPTED, res
    return out
