"""The results bundle: what the authority publishes so that anyone can recompute the count.

Format ``pbcount-bundle-v2`` (every file and field: ``docs/bundle.md``)::

    election.json         frozen election definition and its SHA-256 (definition_hash)
    ballots.jsonl         the ballot log: one canonical JSON line per counted ballot, no voter data
    rejected.jsonl        rejected submissions: counts by reason only
    adjudication.jsonl    review decisions on paper pages: review id, reasons, outcome
    audit.jsonl           the hash-chained audit log up to this publication's "publish" entry
    tally.json            votes per project per channel; superseded counts (declared)
    allocation.json       per envelope: rule, tie-break, selected projects, every outcome
    projects.csv          journalists' CSVs (engine.formats.results_csv)
    envelopes.csv
    merkle.json           RFC 6962 tree head over ballots.jsonl, history, consistency proof
    results.pub           the authority's results public key (PEM)
    pbcount-verifier.zip  the stand-alone verifier (python pbcount-verifier.zip BUNDLE)
    manifest.json         SHA-256 of every file above, software version, Ed25519 signature

The code is split by job; this module only names the parts (and re-exports them for
callers that import ``engine.formats.bundle``):

* :mod:`engine.formats.ballot_log` — the append-only ballot log (lines, segments, leaves);
* :mod:`engine.formats.bundle_files` — the file builders and the signed manifest (pure);
* :mod:`engine.services.publish` — :func:`publish_store`, the service the CLI, the API and
  the demo call;
* :mod:`engine.services.receipts` — a receipt's inclusion proof, and checking one.
"""

from __future__ import annotations

from engine.errors import PublishError
from engine.formats.ballot_log import (
    count_entry,
    count_line,
    is_withdrawal,
    leaf_hashes,
    live_entries,
    live_receipts,
    plan_log_update,
    withdraw_line,
)
from engine.formats.bundle_files import (
    BUNDLE_FILES,
    CONTENT_FILES,
    FORMAT,
    BundleInputs,
    ReviewOutcome,
    TreeHead,
    build_bundle,
    content_digest,
    content_files,
    pretty_json,
    write_bundle,
)
from engine.services.publish import PublishReport, publish_store
from engine.services.receipts import bundle_lines, check_receipt_proof, receipt_proof

__all__ = [
    "BUNDLE_FILES", "CONTENT_FILES", "FORMAT", "BundleInputs", "PublishError", "PublishReport", "ReviewOutcome",
    "TreeHead", "build_bundle", "bundle_lines", "check_receipt_proof", "content_digest", "content_files",
    "count_entry", "count_line", "is_withdrawal", "leaf_hashes", "live_entries", "live_receipts",
    "plan_log_update", "pretty_json", "publish_store", "receipt_proof", "withdraw_line", "write_bundle",
]
