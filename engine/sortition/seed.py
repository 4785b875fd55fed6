"""Deterministic randomness from a public seed (the only source of chance in a draw).

Definition (re-implementable in any language): the seed is the UTF-8 bytes of the text
typed in (a drand round's randomness, a lottery result), used exactly as given. The stream
is the concatenation of the blocks::

    block(j) = SHA-256( b"pbcount-sortition-v1" || 0x00 || seed || 0x00 || uint64_be(j) )

for ``j = 0, 1, 2, ...``. :meth:`SeedStream.below` ``(n)`` reads the next 8 bytes of the
stream as a big-endian unsigned integer ``x``; if ``x >= 2**64 - (2**64 mod n)`` it is
rejected and the next 8 bytes are read (so every result is exactly equally likely),
otherwise the result is ``x mod n``. Bytes are consumed in order and never reused.
"""

from __future__ import annotations

import hashlib

DOMAIN = b"pbcount-sortition-v1"
_TWO64 = 1 << 64


class SeedStream:
    """The byte stream of a seed; ``below(n)`` draws a uniform integer in ``[0, n)``."""

    def __init__(self, seed: str) -> None:
        if not seed:
            raise ValueError("the seed is empty")
        self._seed = seed.encode("utf-8")
        self._block = 0
        self._buffer = b""

    def _take(self, k: int) -> bytes:
        while len(self._buffer) < k:
            h = hashlib.sha256(DOMAIN + b"\x00" + self._seed + b"\x00" + self._block.to_bytes(8, "big"))
            self._buffer += h.digest()
            self._block += 1
        out, self._buffer = self._buffer[:k], self._buffer[k:]
        return out

    def below(self, n: int) -> int:
        """Uniform integer in ``[0, n)`` by rejection sampling on 64-bit words. O(1) expected."""
        if n <= 0:
            raise ValueError("below(n) needs n >= 1")
        if n > _TWO64:
            raise ValueError("below(n) supports n <= 2**64")
        limit = _TWO64 - (_TWO64 % n)
        while True:
            x = int.from_bytes(self._take(8), "big")
            if x < limit:
                return x % n
