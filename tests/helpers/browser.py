"""What every headless-Chromium page test shares: the Debian browser, its launch flags, where
screenshots go, and the marks that skip the module (saying why) when Chromium is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")  # the Debian package; never a Playwright browser download
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: install the Debian 'chromium' "
                       "package (scripts/install-system-deps.sh) to run the browser tests"),
]
