"""Key files on disk (an adapter): the authority's token key, results key and receipt secret.

Layout of a key directory::

    authority.key   Ed25519 private key (PEM, PKCS8), mode 0600 — signs voter tokens
    authority.pub   its public key (PEM) — verifies tokens; give it to every station
    results.key     Ed25519 private key, mode 0600 — signs results bundles
    results.pub     its public key — published with the results
    receipt.key     32 random bytes (hex), mode 0600 — derives receipt ids from ballots

Private key files are created with mode 0600 and refused when group- or world-readable;
the key directory is created 0700; a public key file that others can write (anyone could
swap the key tokens are checked with) is refused. :func:`open_private` creates the other
files that link voters to ballots (token registers, ``ballots.csv``) with mode 0600, and
:func:`make_private` tightens an existing one (the SQLite store). Error messages name the
file, never the key material.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.errors import KeyFileError

AUTHORITY = "authority"
RESULTS = "results"
RECEIPT_FILE = "receipt.key"


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def open_private(path: Path, *, newline: str | None = None) -> IO[str]:
    """Open ``path`` for writing UTF-8 text (truncated), readable by its owner only (0600),
    whatever the umask: for files that link voters to ballots or tokens."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        return os.fdopen(fd, "w", encoding="utf-8", newline=newline)
    except BaseException:
        os.close(fd)
        raise


def make_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing, else remove group/world access."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def init_keys(directory: Path, *, force: bool = False) -> list[Path]:
    """Create the key directory (0700) with fresh keys; refuses to overwrite unless ``force``."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    targets = [directory / f"{AUTHORITY}.key", directory / f"{RESULTS}.key", directory / RECEIPT_FILE]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise KeyFileError(f"{existing[0]} already exists (use --force to replace the keys)")
    written: list[Path] = []
    for name in (AUTHORITY, RESULTS):
        key = Ed25519PrivateKey.generate()
        priv = directory / f"{name}.key"
        pub = directory / f"{name}.pub"
        for p in (priv, pub):
            if p.exists():
                p.unlink()
        _write_secret(
            priv,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        pub.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        pub.chmod(0o644)  # readable by all, writable by the owner only (load_public_key checks it)
        written += [priv, pub]
    receipt = directory / RECEIPT_FILE
    if receipt.exists():
        receipt.unlink()
    _write_secret(receipt, os.urandom(32).hex().encode())
    written.append(receipt)
    return written


def _check_key_file(path: Path, missing: str, forbidden: int, what: str) -> None:
    """Refuse ``path`` if it is missing (message ``missing``) or its mode has a ``forbidden`` bit.

    ``what`` is the message for a bad mode, with ``{mode}`` for the octal mode found.
    """
    if not path.exists():
        raise KeyFileError(f"{path}: {missing}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & forbidden:
        raise KeyFileError(f"{path}: " + what.format(mode=f"{mode:o}"))


def _check_private_permissions(path: Path) -> None:
    _check_key_file(path, "key file not found (run `pbcount keys init`)", 0o077,
                    "private key file is readable by others (mode {mode}); run chmod 600")


def load_private_key(directory: Path, name: str = AUTHORITY) -> Ed25519PrivateKey:
    """The Ed25519 private key ``<directory>/<name>.key`` (PEM); KeyFileError if missing,
    readable by others, or not an Ed25519 PEM key.
    """
    path = directory / f"{name}.key"
    _check_private_permissions(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def load_public_key(directory: Path, name: str = AUTHORITY) -> Ed25519PublicKey:
    """The Ed25519 public key ``<directory>/<name>.pub`` (PEM); KeyFileError if missing,
    writable by others, or not an Ed25519 PEM key.
    """
    path = directory / f"{name}.pub"
    _check_key_file(path, "public key file not found", 0o022,
                    "public key file is writable by others (mode {mode}): anyone could replace the key; "
                    "run chmod 644")
    return public_key_from_pem(path.read_bytes(), str(path))


def public_key_from_pem(data: bytes, where: str = "public key") -> Ed25519PublicKey:
    """Parse an Ed25519 public key from PEM ``data``; KeyFileError naming ``where`` if it is not one."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyFileError(f"{where}: not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{where}: not an Ed25519 public key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    """``key`` as PEM text (SubjectPublicKeyInfo), as published in bundles as ``results.pub``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_receipt_secret(directory: Path) -> bytes:
    """The receipt secret (at least 16 bytes, stored as hex, mode 0600) from ``directory``."""
    path = directory / RECEIPT_FILE
    _check_private_permissions(path)
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError as exc:
        raise KeyFileError(f"{path}: receipt secret is not hex") from exc
    if len(secret) < 16:
        raise KeyFileError(f"{path}: receipt secret too short")
    return secret
