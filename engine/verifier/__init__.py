"""The stand-alone verifier of results bundles: standard library + ``cryptography`` only.

``python -m engine.verifier BUNDLE_DIR --key results.pub`` (or ``python pbcount-verifier.zip
BUNDLE_DIR --key results.pub``). Nothing in this package imports any other module of
pbcount, only its own modules by relative imports (a test runs it with pbcount, numpy and
the rest blocked), so it can be downloaded and read alone: README.md says what it checks,
module by module, and which code is a deliberate independent copy of engine code.
"""

from .errors import VerificationFailure
from .verify import Verified, verify_bundle

__all__ = ["VerificationFailure", "Verified", "verify_bundle"]
