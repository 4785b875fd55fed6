"""Bundle format versions: ``pbcount-bundle-v2`` (what publish writes today, with the
summary/turnout/breakdown CSVs required) and ``pbcount-bundle-v1`` (bundles published before
them), which the verifier must keep reading: a city's old results stay checkable."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.bundle_world import read_json, resign, write_json

from engine.formats.bundle import FORMAT
from engine.storage.keyfiles import load_private_key
from engine.verifier import VerificationFailure, verify_bundle

V2_ONLY = ("summary.csv", "turnout.csv", "categories.csv", "districts.csv")


def _drop(bundle: Path, names: tuple[str, ...], fmt: str | None = None) -> None:
    m = read_json(bundle / "manifest.json")
    for name in names:
        (bundle / name).unlink()
        del m["signed"]["files"][name]
    if fmt is not None:
        m["signed"]["format"] = fmt
    write_json(bundle / "manifest.json", m)


def test_publish_writes_v2(published: Path) -> None:
    assert FORMAT == "pbcount-bundle-v2"
    assert read_json(published / "manifest.json")["signed"]["format"] == "pbcount-bundle-v2"
    for name in V2_ONLY:
        assert (published / name).is_file()


def test_a_v1_bundle_without_the_breakdown_csvs_still_verifies(bundle: Path, small_paris: Path) -> None:
    _drop(bundle, (*V2_ONLY, "fairness.json"), fmt="pbcount-bundle-v1")
    resign(bundle, load_private_key(small_paris / "keys", "results"))
    report = verify_bundle(bundle)
    assert report.tree_size > 0
    assert not any("summary" in n and "recomputed" in n for n in report.notes)


def test_a_v2_bundle_must_list_summary_csv(bundle: Path, small_paris: Path) -> None:
    _drop(bundle, ("summary.csv",))
    resign(bundle, load_private_key(small_paris / "keys", "results"))
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle)
    assert (exc.value.file, exc.value.check) == ("manifest.json", "files_listed")
    assert "summary.csv" in str(exc.value)


def test_an_unknown_format_is_refused(bundle: Path, small_paris: Path) -> None:
    m = read_json(bundle / "manifest.json")
    m["signed"]["format"] = "pbcount-bundle-v9"
    write_json(bundle / "manifest.json", m)
    resign(bundle, load_private_key(small_paris / "keys", "results"))
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle)
    assert exc.value.check == "format"
    assert "pbcount-bundle-v1" in str(exc.value) and "pbcount-bundle-v2" in str(exc.value)
