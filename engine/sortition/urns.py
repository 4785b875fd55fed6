"""``urns``: the alternating-urn draw (Paris "Conseil de la Nuit": women's and men's urns).

Definition: the people are split into one urn per value of the urn feature (values in the
order of the features file; people in id order inside an urn). Seats are filled in turn
from urn 1, urn 2, ..., urn 1, ... until the panel is full; at each turn one person is drawn
uniformly from the people still in that urn (``SeedStream.below(len(urn))``, then removed).
An urn with nobody left is skipped. Household rule: when a person is drawn, everyone else
in their household leaves every urn. The other features' quotas are not enforced by this
method; the record reports whether each was met.

Selection probability: without the household rule it is exact, ``seats of the urn /
people in the urn``. With it, it is estimated by repeating the draw 2,000 times on the
stream of the seed ``"estimate:" + pool hash`` (reported as an estimate).

Tie-break: none needed (every choice is a draw). Complexity O(size × pool).
"""

from __future__ import annotations

from engine.sortition.pool import Features, Pool, SortitionInputError
from engine.sortition.seed import SeedStream

ESTIMATE_DRAWS = 2000


def urn_draw(pool: Pool, features: Features, size: int, urn_feature: str, stream: SeedStream) -> tuple[int, ...]:
    """Pool indices in the order they were drawn."""
    if urn_feature not in features.names:
        raise SortitionInputError(f"urn feature {urn_feature!r} is not in the features file "
                                  f"({', '.join(features.names)})")
    if size > len(pool.ids):
        raise SortitionInputError(f"panel size {size} is larger than the pool ({len(pool.ids)} people)")
    values = features.values(urn_feature)
    urn_of = [values.index(pool.value(i, urn_feature)) for i in range(len(pool.ids))]
    urns: list[list[int]] = [[] for _ in values]
    for i in range(len(pool.ids)):
        urns[urn_of[i]].append(i)
    housemates: dict[int, list[int]] = {}
    if pool.household is not None:
        for i, h in enumerate(pool.household):
            housemates.setdefault(h, []).append(i)
    left = set(range(len(pool.ids)))
    drawn: list[int] = []
    turn = 0
    while len(drawn) < size:
        if not any(urns):
            raise SortitionInputError(f"only {len(drawn)} people could be drawn for {size} seats "
                                      "(urns empty; household rule?)")
        urn = urns[turn % len(urns)]
        turn += 1
        if not urn:
            continue
        person = urn.pop(stream.below(len(urn)))
        left.discard(person)
        drawn.append(person)
        if pool.household is not None:
            for other in housemates[pool.household[person]]:
                if other in left:  # everyone else in the household leaves their urn
                    urns[urn_of[other]].remove(other)
                    left.discard(other)
    return tuple(drawn)


def urn_probabilities(pool: Pool, features: Features, size: int,
                      urn_feature: str) -> tuple[list[tuple[int, int]], bool]:
    """Per person ``(numerator, denominator)`` and whether it is exact (see module docstring)."""
    n = len(pool.ids)
    if pool.household is None:
        # seats per urn follow from the alternation alone
        counts = [sum(1 for i in range(n) if pool.value(i, urn_feature) == v) for v in features.values(urn_feature)]
        left, seats, turn, filled = list(counts), [0] * len(counts), 0, 0
        while filled < size:
            k = turn % len(counts)
            turn += 1
            if left[k]:
                left[k] -= 1
                seats[k] += 1
                filled += 1
        index = {v: k for k, v in enumerate(features.values(urn_feature))}
        return [(seats[index[pool.value(i, urn_feature)]], counts[index[pool.value(i, urn_feature)]])
                for i in range(n)], True
    stream = SeedStream("estimate:" + pool.sha256())
    hits = [0] * n
    for _ in range(ESTIMATE_DRAWS):
        for i in urn_draw(pool, features, size, urn_feature, stream):
            hits[i] += 1
    return [(h, ESTIMATE_DRAWS) for h in hits], False
