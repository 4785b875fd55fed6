"""``python -m engine.verifier BUNDLE_DIR [--key results.pub] [--previous OLD_BUNDLE_DIR]``."""

import sys

from .cli import main

sys.exit(main())
