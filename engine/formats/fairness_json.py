"""``fairness.json`` of the bundle: the fairness report of every envelope.

For each envelope with ``ballot = "approval"`` the figures of
:func:`engine.counting.fairness.fairness_report` over its counted ballots (one row per
ballot covering the envelope) and its funded projects: satisfaction histograms, share of
voters with nothing funded, Gini coefficients, EJR/PJR checks with witnesses. Grade and
for-against envelopes get the same histograms, share and Gini values over the projects each
ballot *supports* (:func:`engine.model.opinions.supported_projects`: graded above the
ungraded grade, or voted for; ``support`` says which), one row per counted ballot covering
the envelope, without EJR/PJR (defined on approval ballots). Voter indices in witnesses
count the envelope's counted ballots sorted by receipt id. The stand-alone verifier
recomputes the histograms, shares and Gini values and checks every witness
(``engine/verifier/fairness_check.py``; docs/bundle.md).
O(envelope ballots + the report's bounded search) per envelope.
"""

from __future__ import annotations

from typing import Any

from engine.counting.allocation import envelope_problem, envelope_profiles
from engine.counting.count import CountResult
from engine.counting.fairness import fairness_report
from engine.model.opinions import support_definition, supported_projects


def fairness_document(result: CountResult) -> dict[str, Any]:
    """``{"envelopes": {id: {"ballot": type, "report": figures}}}`` of one count."""
    e = result.election
    approval = [env.id for env in e.envelopes if env.ballot == "approval"]
    # rows in receipt order, as the verifier reads the log: witness voter indices then agree
    in_order = sorted(result.dedup.counted, key=lambda b: b.receipt_id)
    profiles = envelope_profiles(e, approval, in_order)
    out: dict[str, Any] = {}
    for env in e.envelopes:
        alloc = result.allocation.envelopes[env.id]
        if env.ballot == "approval":
            problem = envelope_problem(e, env.id, result.tally, profile=profiles[env.id])
            report = fairness_report(problem, alloc, profiles[env.id])
        else:
            rows = [supported_projects(env, chosen) for b in in_order for eid, chosen in b.selections if eid == env.id]
            problem = envelope_problem(e, env.id, result.tally)
            report = {**fairness_report(problem, alloc, rows, justified=False), "support": support_definition(env)}
        out[env.id] = {"ballot": env.ballot, "report": report}
    return {"envelopes": out}
