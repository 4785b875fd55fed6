"""One draw, start to end: pool + features + size + seed + method -> :class:`DrawResult`.

Methods: ``leximin`` (default, :mod:`engine.sortition.leximin_types`: the leximin lottery
over compositions of interchangeable people, then members drawn within each type) and
``maximin`` (:mod:`engine.sortition.maximin`): a fair lottery over the quota-respecting
panels, then one ticket drawn from the seed; ``urns`` (:mod:`engine.sortition.urns`). The
result is fully determined by its inputs (and, for the lotteries, the HiGHS version),
which is what ``pbcount sortition verify`` re-checks. Records drawn with an earlier
algorithm version re-derive with it (``ALGORITHMS``: ``leximin-colgen/2``, the per-person
leximin of :mod:`engine.sortition.leximin`, same probabilities, another lottery).

Lottery ticket: ``t = SeedStream(seed).below(W)`` where ``W`` is the lottery's total
weight; the panel (or composition) drawn is the first (in the lottery's order) whose
cumulative weight exceeds ``t`` (:func:`engine.sortition.leximin_types.draw_from_types`
then picks the members of each type from the same stream).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.sortition.leximin import leximin
from engine.sortition.leximin_types import TypeLottery, draw_from_types, leximin_types
from engine.sortition.maximin import Lottery, maximin, meets_quotas
from engine.sortition.pool import Features, Pool, SortitionInputError, precheck
from engine.sortition.seed import SeedStream
from engine.sortition.urns import urn_draw, urn_probabilities

METHODS = ("leximin", "maximin", "urns")
ALGORITHM_VERSION = {"leximin": "leximin-types/1", "maximin": "maximin-colgen/1", "urns": "alternating-urns/1"}
# every algorithm version a record may name, by method (the first is the current one)
ALGORITHMS = {"leximin": ("leximin-types/1", "leximin-colgen/2"), "maximin": ("maximin-colgen/1",),
              "urns": ("alternating-urns/1",)}


@dataclass(frozen=True)
class DrawResult:
    """One draw: the method and panel size, the public seed, the panel drawn (pool indices),
    each person's selection probability as a fraction (exact or not) and the lottery drawn from.
    """

    method: str
    size: int
    seed: str
    panel: tuple[int, ...]  # pool indices, ascending
    probabilities: tuple[tuple[int, int], ...]  # per person (numerator, denominator)
    exact_probabilities: bool
    lottery: Lottery | TypeLottery | None = None
    ticket: int | None = None
    draw_order: tuple[int, ...] = ()  # urns: who was drawn at each turn
    quota_problems: tuple[str, ...] = ()  # urns: quotas the panel does not meet
    urn_feature: str | None = None
    algorithm: str = ""  # the algorithm version (ALGORITHMS); "" = the method's current one

    @property
    def algorithm_version(self) -> str:
        """The algorithm and version the record names."""
        return self.algorithm or ALGORITHM_VERSION[self.method]


def draw(pool: Pool, features: Features, size: int, seed: str, method: str = "leximin",
         urn_feature: str | None = None, algorithm: str | None = None) -> DrawResult:
    """Draw a panel (see the module docstring); SortitionInputError explains infeasibility.
    ``algorithm``: an earlier version of the method's algorithm (re-deriving an old record)."""
    if method not in METHODS:
        raise SortitionInputError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    version = algorithm or ALGORITHM_VERSION[method]
    if version not in ALGORITHMS[method]:
        raise SortitionInputError(f"unknown algorithm {version!r} for method {method!r}; "
                                  f"one of {', '.join(ALGORITHMS[method])}")
    stream = SeedStream(seed)
    if method == "urns":
        if not urn_feature:
            raise SortitionInputError("the urns method needs --urn-feature (e.g. gender)")
        order = urn_draw(pool, features, size, urn_feature, stream)
        probs, exact = urn_probabilities(pool, features, size, urn_feature)
        panel = tuple(sorted(order))
        return DrawResult(method, size, seed, panel, tuple(probs), exact, draw_order=order,
                          quota_problems=tuple(meets_quotas(pool, features, size, panel)),
                          urn_feature=urn_feature)
    precheck(pool, features, size)
    if version == "leximin-types/1":
        typed = leximin_types(pool, features, size)
        ticket, chosen = draw_from_types(typed, stream)
        return DrawResult(method, size, seed, chosen, tuple(typed.probabilities(len(pool.ids))), True,
                          lottery=typed, ticket=ticket, algorithm=version)
    lottery = (leximin if method == "leximin" else maximin)(pool, features, size)
    ticket, chosen = draw_from_lottery(lottery, stream)
    return DrawResult(method, size, seed, chosen, tuple(lottery.probabilities(len(pool.ids))), True,
                      lottery=lottery, ticket=ticket, algorithm=version)


def draw_from_lottery(lottery: Lottery, stream: SeedStream) -> tuple[int, tuple[int, ...]]:
    """``(ticket, panel)``: ticket ``stream.below(W)``, the first panel whose cumulative weight
    exceeds it. O(panels)."""
    ticket = stream.below(lottery.total)
    acc = 0
    for panel, w in zip(lottery.panels, lottery.weights, strict=True):
        acc += w
        if ticket < acc:
            return ticket, panel
    raise AssertionError("ticket beyond the lottery's total weight")
