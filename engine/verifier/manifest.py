"""``manifest.json`` and ``results.pub``: the Ed25519 signature and the files it covers.

Nothing in the bundle may escape the signature: the manifest holds exactly ``signed`` and
``signature``; ``signature`` holds exactly the algorithm (``Ed25519``), the fixed
description of the signed bytes and the value; a repeated key anywhere fails as
``duplicate_key`` (:mod:`.jsonio`); and every file in the bundle directory other than
``manifest.json`` must be listed (and hashed) in ``signed.files`` — any other file is
listed by name as ``unexpected_files``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import fail
from .jsonio import canonical, read_file, read_json

FORMAT = "pbcount-bundle-v2"  # what pbcount publishes today
# every format this verifier reads, oldest first: v1 bundles (published before the summary,
# turnout and breakdown CSVs) keep verifying; their checks run only on the files they list
FORMATS = ("pbcount-bundle-v1", "pbcount-bundle-v2")

V1_REQUIRED_FILES = (
    "election.json", "ballots.jsonl", "rejected.jsonl", "adjudication.jsonl", "audit.jsonl",
    "tally.json", "allocation.json", "projects.csv", "envelopes.csv", "merkle.json", "results.pub",
)
SUMMARY_FILES = ("summary.csv", "turnout.csv", "categories.csv", "districts.csv")  # required from v2
REQUIRED_FILES = {
    "pbcount-bundle-v1": V1_REQUIRED_FILES,
    "pbcount-bundle-v2": V1_REQUIRED_FILES + SUMMARY_FILES,
}


def load_key(pem: bytes, where: str) -> Ed25519PublicKey:
    """The Ed25519 public key in ``pem``; a ``public_key`` failure naming ``where`` otherwise."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise fail(where, "public_key", "not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise fail(where, "public_key", "not an Ed25519 public key")
    return key


def raw_key(key: Ed25519PublicKey) -> bytes:
    """The key's 32 raw bytes (what its fingerprint is taken over)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


SIGNED_BYTES = "UTF-8 canonical JSON of 'signed' (sorted keys, no spaces)"
SIGNATURE_KEYS = {"algorithm", "signed_bytes", "value"}


def check_manifest(directory: Path, pinned: bytes | None) -> tuple[dict[str, Any], Ed25519PublicKey]:
    """The signed part of ``manifest.json`` and the key that signed it, after every check."""
    m = read_json(directory, "manifest.json")
    if not isinstance(m, dict) or not isinstance(m.get("signed"), dict) or not isinstance(m.get("signature"), dict):
        raise fail("manifest.json", "format", "needs objects 'signed' and 'signature'")
    outside = sorted(set(m) - {"signed", "signature"})
    if outside:
        raise fail("manifest.json", "unsigned", f"keys outside 'signed' are not covered by the signature: {outside}")
    signed, sig = m["signed"], m["signature"]
    if set(sig) != SIGNATURE_KEYS or sig.get("signed_bytes") != SIGNED_BYTES:
        raise fail("manifest.json", "unsigned",
                   f"'signature' must hold exactly {sorted(SIGNATURE_KEYS)}, signed_bytes = {SIGNED_BYTES!r} "
                   "(anything else there is not covered by the signature)")
    if signed.get("format") not in FORMATS:
        raise fail("manifest.json", "format",
                   f"format {signed.get('format')!r}, this verifier reads {' and '.join(FORMATS)}")
    if sig.get("algorithm") != "Ed25519":
        raise fail("manifest.json", "signature", f"algorithm {sig.get('algorithm')!r} is not Ed25519")
    if not isinstance(signed.get("public_key"), str):
        raise fail("manifest.json", "public_key", "signed.public_key must be a PEM string")
    key = load_key(signed["public_key"].encode(), "manifest.json")
    file_key = load_key(read_file(directory, "results.pub"), "results.pub")
    if raw_key(file_key) != raw_key(key):
        raise fail("results.pub", "key_matches_manifest", "results.pub is not the key named in manifest.json")
    if pinned is not None and raw_key(load_key(pinned, "--key")) != raw_key(key):
        raise fail("manifest.json", "key_pinned",
                   "the bundle is signed with another key than the published results key (--key)")
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
        key.verify(value, canonical(signed).encode())
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise fail("manifest.json", "signature", "Ed25519 signature does not verify") from exc
    return signed, key


def check_file_hashes(directory: Path, signed: Mapping[str, Any]) -> None:
    """Every required file listed, every listed file hashed, no file that is not listed."""
    files = signed.get("files")
    if not isinstance(files, dict):
        raise fail("manifest.json", "format", "signed.files must be an object")
    extra = sorted(p.name + ("/" if p.is_dir() else "") for p in directory.iterdir()
                   if p.name != "manifest.json" and p.name not in files)
    if extra:
        raise fail("manifest.json", "unexpected_files",
                   f"{len(extra)} file(s) in {directory} not covered by the signature: {', '.join(extra)}")
    for name in REQUIRED_FILES[signed["format"]]:
        if name not in files:
            raise fail("manifest.json", "files_listed", f"{name} is not listed")
    for name, digest in sorted(files.items()):
        if "/" in name or name.startswith(".") or name == "manifest.json":
            raise fail("manifest.json", "files_listed", f"unexpected file name {name!r}")
        actual = hashlib.sha256(read_file(directory, name)).hexdigest()
        if actual != digest:
            raise fail(name, "sha256", f"SHA-256 is {actual}, manifest.json says {digest}")
