"""Counting, as pure functions of data: dedup -> tally -> one allocation problem per envelope."""
