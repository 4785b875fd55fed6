"""How many worker processes a service (e-vote ingestion, paper scanning) uses by default."""

from __future__ import annotations

import os

MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One process per core, at least 1 and at most :data:`MAX_DEFAULT_WORKERS` (beyond that
    the single store writer is the bottleneck)."""
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))
