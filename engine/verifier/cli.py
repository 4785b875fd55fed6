"""``python -m engine.verifier BUNDLE [--key results.pub] [--previous OLD_BUNDLE]`` (also the
entry point of ``pbcount-verifier.zip``): prints ``VERIFIED …`` and exits 0, or
``FAILED: <file>:<line>: <check>: <detail>`` and exits 1 (2 for a usage error)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from .errors import VerificationFailure
from .verify import verify_bundle


def main(argv: Iterable[str] | None = None) -> int:
    """Parse the arguments, verify, print the verdict; the exit code (0, 1 or 2)."""
    ap = argparse.ArgumentParser(prog="python -m engine.verifier",
                                 description="Verify a pbcount results bundle (pbcount-bundle-v2, and v1).")
    ap.add_argument("bundle", type=Path, help="directory of the results bundle")
    ap.add_argument("--key", type=Path, help="the results public key published separately (PEM)")
    ap.add_argument("--previous", type=Path, help="an earlier bundle of the same election (directory)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only the verdict")
    args = ap.parse_args(list(argv) if argv is not None else None)
    pem = None
    if args.key is not None:
        try:
            pem = args.key.read_bytes()
        except OSError as exc:
            print(f"error: {args.key}: {exc.strerror}", file=sys.stderr)
            return 2

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"checking {msg}…", file=sys.stderr)

    try:
        v = verify_bundle(args.bundle, key_pem=pem, previous=args.previous, progress=progress)
    except VerificationFailure as exc:
        print(f"FAILED: {exc}")
        return 1
    if not args.quiet:
        for n in v.notes:
            print(f"note: {n}", file=sys.stderr)
    print(f"VERIFIED publication {v.publication}: {v.counted} counted ballots, tree size {v.tree_size}, "
          f"root {v.root_hash}, key {v.key_fingerprint}{'' if v.key_pinned else ' (not pinned)'}")
    return 0
