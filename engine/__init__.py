"""pbcount engine: the domain core (election model, tokens, ballots, dedup, tally, rules).

Nothing in this package imports ``ballot_scan`` or ``api``.
"""

__version__ = "0.1.0"
