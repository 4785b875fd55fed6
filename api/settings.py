"""What the API server needs to know: the store, the key directory, limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class ApiSettings:
    """Settings of one API server (see ``pbcount serve --help``).

    ``vote_rate`` / ``vote_burst``: token bucket per API key for vote intake (votes per
    second sustained, and the burst allowed above it); a batch consumes one token per line.
    Body limits apply per request, by path; larger requests get 413 before being read.
    ``sortition_dirs``: record directories of ``pbcount sortition draw``, verified at start
    against the results key of ``keys_dir`` and served read-only.
    """

    db_url: str | None = None
    keys_dir: Path = Path("keys")
    bundle_dir: Path | None = None
    register_path: Path | None = None  # token register CSV: lets OCR'd short codes replace a damaged QR
    vote_rate: float = 3000.0
    vote_burst: int = 6000
    max_vote_bytes: int = 64 * 1024
    max_batch_bytes: int = 32 * MiB
    max_batch_lines: int = 50_000
    max_scan_bytes: int = 64 * MiB
    max_other_bytes: int = 256 * 1024
    default_lang: str = "fr"
    sortition_dirs: tuple[Path, ...] = ()  # signed sortition records served read-only (/v1/sortition)
    public_base_url: str = ""

    def body_limit(self, path: str) -> int:
        """The largest request body accepted on ``path`` (votes, batches and scans differ)."""
        if path.startswith("/v1/votes:batch"):
            return self.max_batch_bytes
        if path.startswith("/v1/votes"):
            return self.max_vote_bytes
        if path.startswith("/v1/scans"):
            return self.max_scan_bytes
        return self.max_other_bytes
