"""The domain model: elections, ballots, voter tokens, receipts, the audit chain, Merkle trees.

Plain dataclasses and pure functions; nothing here does I/O.
"""
