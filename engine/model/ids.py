"""Named id types of the domain (``typing.NewType`` over ``str``: no cost at run time).

``mypy`` (run by ``make test``) then tells a project id from an envelope id or a receipt
id in every engine signature: passing an envelope id where a project id is expected is a
type error, although both are strings at run time. A reader of outside text (TOML, JSON
line, pabulib file, QR code, HTTP path) wraps the string once, where it enters the
engine: ``ProjectId(text)``. A :class:`~engine.model.ballots.Submission` still holds the
text as received; :func:`~engine.model.ballots.validate_submission` checks it against the
election, and the :class:`~engine.model.ballots.Ballot` it returns carries typed ids
(:data:`~engine.model.ballots.Selections`).

* :data:`ProjectId`: a project's id as in the election definition (``"P12"``).
* :data:`EnvelopeId`: an envelope's (ballot part's) id (``"arrondissement-11"``).
* :data:`ReceiptId`: the receipt a voter keeps: ``R`` (online) or ``P`` (paper), then 15
  Crockford base32 symbols (:mod:`engine.model.receipts`).
"""

from __future__ import annotations

from typing import NewType

ProjectId = NewType("ProjectId", str)
EnvelopeId = NewType("EnvelopeId", str)
ReceiptId = NewType("ReceiptId", str)

__all__ = ["EnvelopeId", "ProjectId", "ReceiptId"]
