"""RFC 6962 / RFC 9162 Merkle tree hash, inclusion proofs and consistency proofs (pure).

Definitions (RFC 6962 §2.1, RFC 9162 §2.1.1), for a list ``D[n]`` of ``n`` entries:

* ``MTH({}) = SHA-256()`` (the hash of the empty string);
* ``MTH({d0}) = SHA-256(0x00 || d0)`` — the *leaf hash*;
* for ``n > 1``, with ``k`` the largest power of two strictly smaller than ``n``:
  ``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` — a *node hash*.

The ``0x00`` / ``0x01`` prefixes make a leaf and an interior node impossible to confuse
(second-preimage protection).

* Inclusion proof ``PATH(m, D[n])`` (§2.1.3.1): the sibling hashes from leaf ``m`` up to
  the root; verified with :func:`verify_inclusion` (RFC 9162 §2.1.3.2).
* Consistency proof ``PROOF(m, D[n])`` (§2.1.4.1): shows that the tree of size ``m`` is a
  prefix of the tree of size ``n`` (nothing earlier was rewritten); verified with
  :func:`verify_consistency` (RFC 9162 §2.1.4.2).

Complexity: :func:`root` and each proof are O(n) hashes (one pass per level); the
verifications are O(log n). Functions take *leaf hashes* (``leaf_hash(entry)``), so callers
hash each entry once. ``engine/verifier/merkle.py`` carries its own independent copy of the
verification side (it must run alone); the tests check both against the RFC test vectors
and against a literal transcription of the RFC's recursive definitions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    if n < 2:
        raise ValueError("split_point needs n >= 2")
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of the entries whose leaf hashes are given (level by level).

    Pairing each level left to right and carrying a lone last node up unchanged gives
    exactly the RFC 6962 split-at-the-largest-power-of-two tree.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    sha = hashlib.sha256
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """``PATH(index, D[n])``: sibling hashes, leaf level first."""
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf index {index} outside a tree of size {n}")
    proof: list[bytes] = []
    lo, hi, m = 0, n, index
    # Walk down from the root, collecting the sibling subtree's hash at each split; the
    # RFC lists them bottom-up, so reverse at the end.
    while hi - lo > 1:
        k = split_point(hi - lo)
        if m < k:
            proof.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaf_hashes[lo : lo + k]))
            lo, m = lo + k, m - k
    proof.reverse()
    return proof


def consistency_proof(first_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """``PROOF(m, D[n])`` for ``m = first_size``; empty when ``m == n`` or ``m == 0``."""
    n = len(leaf_hashes)
    if not 0 <= first_size <= n:
        raise ValueError(f"first size {first_size} outside 0..{n}")
    if first_size in (0, n):
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, n, first_size, True
    while True:
        size = hi - lo
        if m == size:
            if not complete:
                proof.append(root(leaf_hashes[lo:hi]))
            break
        k = split_point(size)
        if m <= k:
            proof.append(root(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaf_hashes[lo : lo + k]))
            lo, m, complete = lo + k, m - k, False
    proof.reverse()
    return proof


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place ``leaf`` (a leaf hash) at ``index``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first_size: int, second_size: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``(first_size, first_root)`` a prefix of the second?"""
    if not 0 <= first_size <= second_size:
        return False
    if first_size == second_size:
        return not proof and first_root == second_root
    if first_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    path = list(proof)
    if first_size & (first_size - 1) == 0:  # exact power of two: the first root is a node
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
