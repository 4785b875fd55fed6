"""The ``pbcount`` command line: a thin adapter over the engine (and ballot_scan, api)."""
