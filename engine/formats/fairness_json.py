"""``fairness.json`` of the bundle: the fairness report of every approval envelope.

For each envelope with ``ballot = "approval"`` the figures of
:func:`engine.counting.fairness.fairness_report` over its counted ballots (one row per
ballot covering the envelope) and its funded projects: satisfaction histograms, share of
voters with nothing funded, Gini coefficients, EJR/PJR checks with witnesses. Grade and
for-against envelopes get ``{"ballot": ..., "report": null}`` (the report is defined on
approvals). Voter indices in witnesses count the envelope's counted ballots sorted by
receipt id. The stand-alone verifier recomputes the histograms, shares and Gini values and
checks every witness (``engine/verifier/fairness_check.py``; docs/bundle.md).
O(envelope ballots + the report's bounded search) per envelope.
"""

from __future__ import annotations

from typing import Any

from engine.counting.allocation import envelope_problem, envelope_profiles
from engine.counting.count import CountResult
from engine.counting.fairness import fairness_report


def fairness_document(result: CountResult) -> dict[str, Any]:
    """``{"envelopes": {id: {"ballot": type, "report": figures or None}}}`` of one count."""
    e = result.election
    approval = [env.id for env in e.envelopes if env.ballot == "approval"]
    # rows in receipt order, as the verifier reads the log: witness voter indices then agree
    profiles = envelope_profiles(e, approval, sorted(result.dedup.counted, key=lambda b: b.receipt_id))
    out: dict[str, Any] = {}
    for env in e.envelopes:
        report = None
        if env.ballot == "approval":
            problem = envelope_problem(e, env.id, result.tally, profile=profiles[env.id])
            report = fairness_report(problem, result.allocation.envelopes[env.id], profiles[env.id])
        out[env.id] = {"ballot": env.ballot, "report": report}
    return {"envelopes": out}
