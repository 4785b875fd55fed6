"""RFC 6962 Merkle tree: published test vectors, a literal second implementation, sizes 1..64.

Two implementations are under test: ``engine.model.merkle`` (the producer: roots and proofs) and
the independent verification code inside the standalone ``engine.verifier.merkle``. Both are checked
against the Certificate Transparency test vectors (roots for sizes 0..8, inclusion and
consistency proofs, as published by transparency-dev/merkle and the CT reference code) and
against ``_mth``/``_path``/``_subproof`` below, a line-by-line transcription of RFC 6962
§2.1 recursive definitions.
"""

from __future__ import annotations

import hashlib

import pytest

from engine.model import merkle
from engine.verifier import merkle as standalone

CT_ENTRIES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]
CT_CONSISTENCY = [
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]

# ---------------------------------------------------------------- RFC 6962 §2.1, literally


def _sha(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: list[bytes]) -> bytes:
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _k(len(d))
    return _sha(b"\x01" + _mth(d[:k]) + _mth(d[k:]))


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return _path(m, d[:k]) + [_mth(d[k:])]
    return _path(m - k, d[k:]) + [_mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [_mth(d)]
    k = _k(n)
    if m <= k:
        return _subproof(m, d[:k], b) + [_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [_mth(d[:k])]


ENTRIES = [f"entry {i}".encode() * (i % 3 + 1) for i in range(64)]
LEAVES = [merkle.leaf_hash(e) for e in ENTRIES]

# ---------------------------------------------------------------- published vectors


@pytest.mark.parametrize("size", range(0, 9))
def test_roots_match_ct_vectors(size: int) -> None:
    leaves = [merkle.leaf_hash(e) for e in CT_ENTRIES[:size]]
    assert merkle.root(leaves).hex() == CT_ROOTS[size]
    assert standalone.merkle_root(leaves).hex() == CT_ROOTS[size]
    assert _mth(CT_ENTRIES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_matches_ct_vectors(index: int, size: int, expected: list[str]) -> None:
    leaves = [merkle.leaf_hash(e) for e in CT_ENTRIES[:size]]
    proof = merkle.inclusion_proof(index, leaves)
    assert [p.hex() for p in proof] == expected
    r = bytes.fromhex(CT_ROOTS[size])
    assert merkle.verify_inclusion(index, size, leaves[index], proof, r)
    assert standalone.verify_inclusion(index, size, leaves[index], proof, r)


@pytest.mark.parametrize(("first", "second", "expected"), CT_CONSISTENCY)
def test_consistency_matches_ct_vectors(first: int, second: int, expected: list[str]) -> None:
    leaves = [merkle.leaf_hash(e) for e in CT_ENTRIES[:second]]
    proof = merkle.consistency_proof(first, leaves)
    assert [p.hex() for p in proof] == expected
    r1, r2 = bytes.fromhex(CT_ROOTS[first]), bytes.fromhex(CT_ROOTS[second])
    assert merkle.verify_consistency(first, second, r1, r2, proof)
    assert standalone.verify_consistency(first, second, r1, r2, proof)


# ---------------------------------------------------------------- sizes 1..64 vs the RFC text


@pytest.mark.parametrize("n", range(1, 65))
def test_every_inclusion_proof_up_to_64(n: int) -> None:
    leaves = LEAVES[:n]
    r = _mth(ENTRIES[:n])
    assert merkle.root(leaves) == r
    assert standalone.merkle_root(leaves) == r
    for m in range(n):
        proof = merkle.inclusion_proof(m, leaves)
        assert proof == _path(m, ENTRIES[:n])
        assert merkle.verify_inclusion(m, n, leaves[m], proof, r)
        assert standalone.verify_inclusion(m, n, leaves[m], proof, r)
        # the same proof does not place another leaf, or this leaf elsewhere
        other = leaves[(m + 1) % n] if n > 1 else merkle.leaf_hash(b"other")
        assert not merkle.verify_inclusion(m, n, other, proof, r)
        assert not standalone.verify_inclusion(m, n, other, proof, r)
        if n > 1:
            wrong = (m + 1) % n
            assert not merkle.verify_inclusion(wrong, n, leaves[m], proof, r)
            assert not standalone.verify_inclusion(wrong, n, leaves[m], proof, r)


@pytest.mark.parametrize("n", range(1, 65))
def test_every_consistency_proof_up_to_64(n: int) -> None:
    leaves = LEAVES[:n]
    r2 = _mth(ENTRIES[:n])
    for m in range(1, n + 1):
        r1 = _mth(ENTRIES[:m])
        proof = merkle.consistency_proof(m, leaves)
        assert proof == (_subproof(m, ENTRIES[:n], True) if m < n else [])
        assert merkle.verify_consistency(m, n, r1, r2, proof)
        assert standalone.verify_consistency(m, n, r1, r2, proof)
        if m < n:
            # a rewritten first tree (its last entry changed) is not a prefix
            forged = _mth(ENTRIES[: m - 1] + [b"rewritten"])
            assert not merkle.verify_consistency(m, n, forged, r2, proof)
            assert not standalone.verify_consistency(m, n, forged, r2, proof)
            # nor is the same tree claimed with a different size
            if m + 1 < n:
                assert not merkle.verify_consistency(m + 1, n, r1, r2, proof)
                assert not standalone.verify_consistency(m + 1, n, r1, r2, proof)


def test_tampered_proof_element_is_rejected() -> None:
    leaves = LEAVES[:37]
    r = merkle.root(leaves)
    proof = merkle.inclusion_proof(20, leaves)
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        assert not merkle.verify_inclusion(20, 37, leaves[20], bad, r)
        assert not standalone.verify_inclusion(20, 37, leaves[20], bad, r)
    assert not merkle.verify_inclusion(20, 37, leaves[20], proof[:-1], r)
    assert not merkle.verify_inclusion(20, 37, leaves[20], [*proof, proof[0]], r)


def test_out_of_range_requests_are_refused() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(3, LEAVES[:3])
    with pytest.raises(ValueError):
        merkle.consistency_proof(4, LEAVES[:3])
    assert not merkle.verify_inclusion(3, 3, LEAVES[0], [], merkle.root(LEAVES[:3]))
    assert not merkle.verify_consistency(4, 3, b"", b"", [])
