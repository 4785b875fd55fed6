"""A batch file's identity: the SHA-256 of its bytes.

Re-ingesting or re-scanning the same file is recognised by this digest (an e-vote file, a
multi-page TIFF or PDF), so it is computed the same way everywhere: the file read in 1 MiB
blocks, never whole into memory. Complexity: O(file size), constant memory.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    """SHA-256 (lower-case hex) of the bytes of ``path``."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()
