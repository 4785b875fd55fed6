"""Verifiable sortition: panels (or proposals) drawn by lot with quotas, from a public seed.

Pure core: :mod:`.pool` (inputs and checks), :mod:`.seed` (randomness from the seed),
:mod:`.leximin`, :mod:`.maximin` and :mod:`.urns` (methods), :mod:`.draw` (one draw), :mod:`.record` (the
signed record and its verification). See ``docs/sortition.md``.
"""

from engine.sortition.draw import METHODS, DrawResult, draw
from engine.sortition.pool import Features, Pool, SortitionInputError, parse_features, parse_pool
from engine.sortition.seed import SeedStream

__all__ = ["METHODS", "DrawResult", "Features", "Pool", "SeedStream", "SortitionInputError", "draw",
           "parse_features", "parse_pool"]
