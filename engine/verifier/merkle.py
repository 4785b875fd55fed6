"""RFC 6962 / RFC 9162 §2.1 Merkle tree, verification side only.

A deliberate independent copy of the verification half of ``engine/model/merkle.py``
(the verifier must not trust the code it checks); both are tested against the Certificate
Transparency test vectors and the RFC's recursive definitions (``tests/unit/test_merkle.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes: a stack of perfect subtrees, merged right to left at the end."""
    stack: list[tuple[int, bytes]] = []  # (subtree size, hash)
    for h in leaf_hashes:
        size, cur = 1, h
        while stack and stack[-1][0] == size:
            cur = _node(stack.pop()[1], cur)
            size *= 2
        stack.append((size, cur))
    if not stack:
        return hashlib.sha256(b"").digest()
    cur = stack.pop()[1]
    while stack:
        cur = _node(stack.pop()[1], cur)
    return cur


def merkle_roots(leaf_hashes: Sequence[bytes], sizes: set[int]) -> dict[int, bytes]:
    """MTH of each prefix ``leaf_hashes[:k]`` for ``k`` in ``sizes``, in one pass over the
    leaves (the stack of perfect subtrees after k leaves folds into the root of the first k)."""
    out: dict[int, bytes] = {}
    stack: list[tuple[int, bytes]] = []

    def fold() -> bytes:
        if not stack:
            return hashlib.sha256(b"").digest()
        cur = stack[-1][1]
        for _size, h in reversed(stack[:-1]):
            cur = _node(h, cur)
        return cur

    if 0 in sizes:
        out[0] = fold()
    for k, h in enumerate(leaf_hashes, start=1):
        size, cur = 1, h
        while stack and stack[-1][0] == size:
            cur = _node(stack.pop()[1], cur)
            size *= 2
        stack.append((size, cur))
        if k in sizes:
            out[k] = fold()
    return out


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index < 0 or index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            r = _node(r, p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2 (with the trivial cases m == n and m == 0)."""
    if m < 0 or m > n:
        return False
    if m == n:
        return len(proof) == 0 and root_m == root_n
    if m == 0:
        return len(proof) == 0
    path = list(proof)
    if m & (m - 1) == 0:
        path = [root_m, *path]
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            sr = _node(sr, c)
        fn //= 2
        sn //= 2
    return fr == root_m and sr == root_n and sn == 0


def leaf_hash_of_line(line: str) -> bytes:
    """RFC 6962 leaf hash of one ``ballots.jsonl`` line: SHA-256 of ``0x00`` + its UTF-8 bytes."""
    return hashlib.sha256(b"\x00" + line.encode()).digest()

