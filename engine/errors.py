"""Every error pbcount raises on purpose, in one hierarchy (after httpx's ``_exceptions.py``).

Each carries enough context to name the culprit (file, line, key path, ballot, reason code).
The CLI (``pbcount.console.errors_as_messages``) and the API catch :class:`PbcountError`.
Errors of the other packages subclass a class of this module; the stand-alone verifier
(``engine/verifier``) imports nothing of pbcount and has its own ``VerificationFailure``.

::

    PbcountError
    ├── ElectionDefinitionError     the definition file is malformed or inconsistent (location, message)
    ├── ElectionFrozenError         the store holds another, frozen definition
    ├── TokenError                  a voter token fails verification (reason code)
    ├── KeyFileError                a key file is missing, malformed or unsafe
    ├── StoreError                  the store cannot do what was asked
    │   └── ElectionClosedError     online intake is closed: nothing stored
    ├── PublishError                the store cannot be published as it is
    │   └── PendingReviewError      paper pages still in review (publish with allow_pending)
    ├── PabulibError                a malformed .pb file (source, line) -- also a ValueError
    ├── PlatformFileError           a Decidim or Consul file, or id map, unusable (source, line) -- a ValueError
    ├── PrecedenceError             the precedence rule cannot order these ballots ('latest' + paper)
    ├── ReceiptInputError           typed text is neither a receipt id nor a stub number -- also a ValueError
    ├── GroupsFileError             a voter-groups file cannot be used (file, line)
    ├── SortitionInputError         a sortition pool or features file is malformed, quotas unmeetable
    ├── TargetUnreachable           a savings target cannot be reached (most) -- also a ValueError
    ├── PaperPageError              a scanned page cannot be read (reason code, detail)
    │   ├── ballot_scan.image_guard.ImageRejected   refused before decoding (PDF, truncated, too large)
    │   └── ballot_scan.align.AlignmentError        fiducials not found, rotation or scale out of range
    ├── ballot_scan.render.RenderError              a ballot cannot be rendered (token register, fonts)
    ├── ballot_scan.adjudicate.AdjudicationError    a review decision is refused
    └── api.errors.ApiError                         an HTTP error answer (status, machine-readable code)
"""

from __future__ import annotations


class PbcountError(Exception):
    """Base class for every error the engine raises on purpose."""


class ElectionDefinitionError(PbcountError):
    """The election definition file is malformed or inconsistent.

    ``location`` names the file and the offending key path (e.g. ``election.toml: projects[3].cost``).
    """

    def __init__(self, location: str, message: str) -> None:
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


class ElectionFrozenError(PbcountError):
    """The store already holds a different (frozen) election definition."""


class TokenError(PbcountError):
    """A voter token failed verification. ``reason`` is a stable machine-readable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class KeyFileError(PbcountError):
    """A key file is missing, malformed, or has unsafe permissions."""


class StoreError(PbcountError):
    """The store cannot do what was asked (e.g. no election frozen yet)."""


class ElectionClosedError(StoreError):
    """Online intake is closed (``Store.close_election``): the write was refused, nothing stored."""


class PrecedenceError(PbcountError):
    """The election's precedence rule cannot order these ballots (``latest`` with untimed paper)."""


class ReceiptInputError(PbcountError, ValueError):
    """What a voter typed is neither a receipt id nor a stub number.

    ``code``: ``length`` (wrong number of symbols), ``symbol`` (a character that is not
    Crockford base32) or ``check_mismatch`` (the check symbol does not match: a typo).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PublishError(PbcountError):
    """The store cannot be published as it is (inconsistent state, pending review, a ballot
    whose content no longer matches its key)."""


class PendingReviewError(PublishError):
    """Paper pages are still waiting for a review decision; publish with ``allow_pending``."""

    def __init__(self, pending: int) -> None:
        super().__init__(
            f"{pending} paper page{'s are' if pending != 1 else ' is'} still pending review (not counted yet): "
            "decide them (pbcount review list / resolve / reject) or publish anyway with --allow-pending"
        )
        self.pending = pending


class PabulibError(PbcountError, ValueError):
    """Malformed ``.pb`` input; the message names the file and line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")
        self.source = source
        self.line = line
        self.message = message


class PlatformFileError(PbcountError, ValueError):
    """A Decidim or Consul file (or a project / token map for one) that cannot be used as a
    whole; the message names the file and line. Single bad votes are rejections, not errors."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}" if line else f"{source}: {message}")
        self.source = source
        self.line = line
        self.message = message


class PaperPageError(PbcountError):
    """A scanned page that cannot be read; ``reason`` is a stable code, ``detail`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class GroupsFileError(PbcountError):
    """A groups file that cannot be used (names the file and line)."""


class SortitionInputError(PbcountError):
    """A pool or features file is malformed, or the quotas cannot be met (reason given)."""


class TargetUnreachable(PbcountError, ValueError):
    """The savings target cannot be reached; ``most`` is the most that can be saved."""

    def __init__(self, message: str, most: int) -> None:
        super().__init__(message)
        self.most = most
