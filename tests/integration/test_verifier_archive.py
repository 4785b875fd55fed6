"""The stand-alone verifier as one download (issue 12.4): in every bundle and at
``GET /v1/verifier.zip``, the same bytes, runnable with ``python pbcount-verifier.zip``."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient
from helpers.api_fixtures import make_world
from helpers.bundle_world import make_world as make_bundle_world

from api import ApiSettings, create_app
from engine.verifier.archive import ARCHIVE_NAME, build_verifier_zip


def test_published_bundle_carries_the_verifier_and_it_verifies_that_bundle(small_paris: Path,
                                                                            tmp_path: Path) -> None:
    world = make_bundle_world(small_paris, tmp_path / "world")
    _, out = world.publish("bundle")
    data = (out / ARCHIVE_NAME).read_bytes()
    assert data == build_verifier_zip()
    signed = json.loads((out / "manifest.json").read_text())["signed"]
    assert ARCHIVE_NAME in signed["files"]  # covered by the signature
    names = zipfile.ZipFile(out / ARCHIVE_NAME).namelist()
    assert "__main__.py" in names and "pbcount_verifier/README.md" in names
    r = subprocess.run([sys.executable, str(out / ARCHIVE_NAME), str(out), "--key",
                        str(small_paris / "keys" / "results.pub"), "-q"], cwd=tmp_path, capture_output=True,
                       text=True, timeout=180)
    assert r.returncode == 0 and r.stdout.startswith("VERIFIED"), r.stdout + r.stderr


def test_api_serves_the_verifier_archive(small_paris: Path, tmp_path: Path) -> None:
    world = make_world(tmp_path / "w", small_paris)
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    with TestClient(app) as client:
        r = client.get("/v1/verifier.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert r.content == build_verifier_zip()
    assert ARCHIVE_NAME in r.headers["content-disposition"]
