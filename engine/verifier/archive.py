"""``pbcount-verifier.zip``: this package as one file anyone can download and run.

``python pbcount-verifier.zip BUNDLE_DIR --key results.pub``: Python runs the archive's
``__main__.py``, which imports the package from the archive itself (as ``pbcount_verifier``;
the modules only import each other relatively, so the name does not matter). Deterministic:
the same sources give the same bytes (fixed dates, sorted names), so a bundle that carries
the archive stays byte-identical when re-emitted.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

ARCHIVE_NAME = "pbcount-verifier.zip"
PACKAGE = "pbcount_verifier"
_DATE = (2026, 1, 1, 0, 0, 0)
_MAIN = (
    '"""python pbcount-verifier.zip BUNDLE_DIR [--key results.pub] [--previous OLD_BUNDLE_DIR]"""\n\n'
    "import sys\n\n"
    f"from {PACKAGE}.cli import main\n\n"
    "sys.exit(main())\n"
)


def package_files() -> list[Path]:
    """The files of the verifier package that go into the archive (sources and README)."""
    here = Path(__file__).resolve().parent
    return sorted(p for p in here.iterdir() if p.is_file() and (p.suffix == ".py" or p.name == "README.md"))


def build_verifier_zip() -> bytes:
    """The archive's bytes: ``__main__.py`` + ``pbcount_verifier/<every module>``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        entries = [("__main__.py", _MAIN.encode())]
        entries += [(f"{PACKAGE}/{p.name}", p.read_bytes()) for p in package_files()]
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()
