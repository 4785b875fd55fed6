"""The stand-alone verifier of results bundles: standard library + ``cryptography`` only.

``python -m engine.verifier BUNDLE_DIR --key results.pub``. Nothing in this package imports
any other module of pbcount (a test enforces it), so it can be downloaded and read alone.
"""
