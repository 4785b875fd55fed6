"""Tamper tests for the standalone verifier: every forgery is caught and named.

Two kinds of forger: one who edits files and cannot sign (caught by the manifest), and a
dishonest authority who edits, re-hashes and re-signs with the real results key (caught by
recomputation: Merkle root, tally, allocation, CSVs, audit chain). The bundle holds online
and paper ballots (publication 1), so both channels are exercised.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers.bundle_world import (
    add_paper_ballots,
    ballot_lines,
    canonical,
    fix_tree_head,
    make_world,
    read_json,
    resign,
    write_json,
    write_lines,
)
from typer.testing import CliRunner

from engine.formats.bundle import BUNDLE_FILES
from engine.storage.keyfiles import load_private_key
from engine.verifier import VerificationFailure, verify_bundle
from pbcount.cli import app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def published(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = make_world(small_paris, tmp_path_factory.mktemp("verify") / "world")
    add_paper_ballots(world, 30)
    _, out = world.publish("bundle")
    return out


@pytest.fixture(scope="module")
def key(small_paris: Path) -> Ed25519PrivateKey:
    return load_private_key(small_paris / "keys", "results")


@pytest.fixture(scope="module")
def pub_pem(small_paris: Path) -> bytes:
    return (small_paris / "keys" / "results.pub").read_bytes()


def failure(bundle: Path, pem: bytes | None, **kw: object) -> VerificationFailure:
    with pytest.raises(VerificationFailure) as exc:
        verify_bundle(bundle, key_pem=pem, **kw)  # type: ignore[arg-type]
    return exc.value


def resigned_failure(bundle: Path, key: Ed25519PrivateKey, pem: bytes) -> VerificationFailure:
    """Re-sign the tampered ``bundle`` with the real ``key`` (a forger holding it), then verify."""
    resign(bundle, key)
    return failure(bundle, pem)


def edit_csv_cell(path: Path, row: int, column: str, change: Callable[[str], str]) -> None:
    """Replace the cell of ``column`` in line ``row`` (0: the header) of a CSV file by ``change(cell)``."""
    rows = path.read_text(encoding="utf-8").split("\n")
    cells = rows[row].split(",")
    col = rows[0].split(",").index(column)
    cells[col] = change(cells[col])
    rows[row] = ",".join(cells)
    path.write_text("\n".join(rows), encoding="utf-8")


def edit_jsonl_line(path: Path, index: int, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the object of line ``index`` of a JSON-lines file (canonical again)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    e = json.loads(lines[index])
    change(e)
    lines[index] = canonical(e)
    path.write_text("\n".join(lines), encoding="utf-8")


def test_the_untouched_bundle_verifies(bundle: Path, pub_pem: bytes) -> None:
    v = verify_bundle(bundle, key_pem=pub_pem)
    assert v.key_pinned and v.publication == 1
    lines = [json.loads(x) for x in ballot_lines(bundle)]
    assert {e["channel"] for e in lines} == {"online", "paper"}


@pytest.mark.parametrize("name", BUNDLE_FILES)
def test_one_changed_byte_in_any_file_is_caught_and_named(bundle: Path, pub_pem: bytes, name: str) -> None:
    p = bundle / name
    data = bytearray(p.read_bytes())
    if data:
        data[len(data) // 2] ^= 0x01
    else:  # adjudication.jsonl is empty without paper reviews: add one byte instead
        data = bytearray(b"\n")
    p.write_bytes(bytes(data))
    f = failure(bundle, pub_pem)
    assert f.file == name
    if name not in ("manifest.json", "results.pub"):
        assert f.check == "sha256"


def test_dropped_ballot_changes_the_root(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    lines = ballot_lines(bundle)
    write_lines(bundle, lines[:10] + lines[11:])
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("merkle.json", "tree_size")


def test_dropped_ballot_with_a_new_tree_head_breaks_the_tally(bundle: Path, key: Ed25519PrivateKey,
                                                              pub_pem: bytes) -> None:
    lines = ballot_lines(bundle)
    write_lines(bundle, lines[:10] + lines[11:])
    fix_tree_head(bundle)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("tally.json", "ballots")


def test_duplicated_ballot_is_named(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    lines = ballot_lines(bundle)
    write_lines(bundle, lines[:8] + [lines[7]] + lines[8:])
    fix_tree_head(bundle)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.line, f.check) == ("ballots.jsonl", 9, "receipt_unique")


def test_swapped_selections_of_two_ballots(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    """Same tally, so only the tree head (and the audit entry signing it) can tell."""
    lines = ballot_lines(bundle)
    a, b = json.loads(lines[0]), json.loads(lines[1])
    assert a["selections"] != b["selections"]
    a["selections"], b["selections"] = b["selections"], a["selections"]
    lines[0], lines[1] = canonical(a), canonical(b)
    write_lines(bundle, lines)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("merkle.json", "root_hash")
    fix_tree_head(bundle)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("audit.jsonl", "publish_entry")


def test_project_swapped_into_another_envelope_is_an_invalid_ballot(bundle: Path, key: Ed25519PrivateKey,
                                                                    pub_pem: bytes) -> None:
    lines = ballot_lines(bundle)
    i = next(i for i, x in enumerate(lines) if len(json.loads(x)["selections"]) == 2)
    e = json.loads(lines[i])
    (e1, p1), (e2, p2) = sorted(e["selections"].items())
    e["selections"] = {e1: sorted([p2[0], *p1[1:]]), e2: sorted([p1[0], *p2[1:]])}
    lines[i] = canonical(e)
    write_lines(bundle, lines)
    fix_tree_head(bundle)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.line, f.check) == ("ballots.jsonl", i + 1, "ballot_valid")
    assert "belongs to envelope" in f.detail


def test_altered_csv_figures(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    edit_csv_cell(bundle / "projects.csv", 3, "votes_total", lambda v: str(int(v) + 1))
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.line, f.check) == ("projects.csv", 4, "votes_total")


def test_altered_envelope_spending(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    edit_csv_cell(bundle / "envelopes.csv", 1, "spent", lambda v: str(int(v) - 1000))
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.line, f.check) == ("envelopes.csv", 2, "spent")


def test_changed_rules(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    doc = read_json(bundle / "election.json")
    assert doc["definition"]["quotas"][0]["min_share"] == "1/3"
    doc["definition"]["quotas"][0]["min_share"] = "0/1"  # drop the popular-neighbourhood reserve
    write_json(bundle / "election.json", doc)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("election.json", "definition_hash")
    # the forger also fixes the declared and signed hashes: the allocation no longer follows
    h = hashlib.sha256(canonical(doc["definition"]).encode()).hexdigest()
    doc["definition_hash"] = h
    write_json(bundle / "election.json", doc)
    man = read_json(bundle / "manifest.json")
    man["signed"]["definition_hash"] = h
    write_json(bundle / "manifest.json", man)
    f = resigned_failure(bundle, key, pub_pem)
    assert f.file == "allocation.json"
    assert f.check in ("quota_reports", "notes", "selected", "cost", "outcomes")


def test_resigned_with_another_key(bundle: Path, pub_pem: bytes) -> None:
    thief = Ed25519PrivateKey.generate()
    resign(bundle, thief)
    f = failure(bundle, pub_pem)
    assert (f.file, f.check) == ("manifest.json", "signature")


def test_another_key_substituted_everywhere_is_caught_by_the_pinned_key(bundle: Path, pub_pem: bytes) -> None:
    thief = Ed25519PrivateKey.generate()
    resign(bundle, thief, replace_key=True)
    f = failure(bundle, pub_pem)
    assert (f.file, f.check) == ("manifest.json", "key_pinned")
    # without pinning, the bundle is self-consistent: the verdict says the key was not pinned
    v = verify_bundle(bundle, key_pem=None)
    assert not v.key_pinned and any("NOT pinned" in n for n in v.notes)


def test_results_pub_swapped(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    from engine.storage.keyfiles import public_key_pem

    (bundle / "results.pub").write_text(public_key_pem(Ed25519PrivateKey.generate().public_key()))
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("results.pub", "key_matches_manifest")


def test_audit_entry_edited(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    edit_jsonl_line(bundle / "audit.jsonl", 0, lambda e: e.update(actor="someone else"))
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.line, f.check) == ("audit.jsonl", 1, "audit_chain")


def test_rejection_counts_edited(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    edit_jsonl_line(bundle / "rejected.jsonl", 0, lambda e: e.update(count=e["count"] - 1))
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("rejected.jsonl", "total")


def test_reordered_ballots_are_refused(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    """Lines in arrival order would reveal who voted when: the order is part of the format."""
    lines = ballot_lines(bundle)
    lines[2], lines[5] = lines[5], lines[2]
    write_lines(bundle, lines)
    fix_tree_head(bundle)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.line, f.check) == ("ballots.jsonl", 4, "order")  # line 3 now sorts after 4


def test_missing_file(bundle: Path, pub_pem: bytes) -> None:
    (bundle / "tally.json").unlink()
    f = failure(bundle, pub_pem)
    assert (f.file, f.check) == ("tally.json", "present")


# ---------------------------------------------------------------- consistency across publications


@pytest.fixture(scope="module")
def two_publications(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    world = make_world(small_paris, tmp_path_factory.mktemp("verify2") / "world")
    _, first = world.publish("first")
    add_paper_ballots(world, 25)
    _, second = world.publish("second")
    return first, second


def test_consistency_proof_is_checked(two_publications: tuple[Path, Path], tmp_path: Path,
                                      key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    first, second = two_publications
    assert verify_bundle(second, key_pem=pub_pem, previous=first).publication == 2
    forged = tmp_path / "second"
    shutil.copytree(second, forged)
    m = read_json(forged / "merkle.json")
    assert m["consistency_proof"]
    m["consistency_proof"][0] = "00" * 32
    write_json(forged / "merkle.json", m)
    resign(forged, key)
    f = failure(forged, pub_pem)
    assert (f.file, f.check) == ("merkle.json", "consistency_proof")


def test_a_rewritten_earlier_ballot_fails(two_publications: tuple[Path, Path], tmp_path: Path,
                                          key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    first, second = two_publications
    forged = tmp_path / "second"
    shutil.copytree(second, forged)
    lines = ballot_lines(forged)
    a, b = json.loads(lines[0]), json.loads(lines[1])
    a["selections"], b["selections"] = b["selections"], a["selections"]
    lines[0], lines[1] = canonical(a), canonical(b)
    write_lines(forged, lines)
    fix_tree_head(forged)
    resign(forged, key)
    f = failure(forged, pub_pem, previous=first)
    assert (f.file, f.check) == ("merkle.json", "history_rewritten")


def test_previous_bundle_with_another_head_is_refused(two_publications: tuple[Path, Path], tmp_path: Path,
                                                      key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    first, second = two_publications
    old = tmp_path / "first"
    shutil.copytree(first, old)
    man = read_json(old / "manifest.json")
    man["signed"]["root_hash"] = "ab" * 32  # what the public saw then differs from this history
    write_json(old / "manifest.json", man)
    resign(old, key)
    f = failure(second, pub_pem, previous=old)
    assert (f.file, f.check) == ("merkle.json", "previous_bundle")


# ---------------------------------------------------------------- standalone, CLI


# Run in a fresh interpreter: every import that is neither the standard library, nor
# cryptography (and its cffi backend), nor the verifier itself raises ImportError.
BLOCKER = (
    "import sys, importlib.abc\n"
    "ALLOWED = set(sys.stdlib_module_names) | {'cryptography', '_cffi_backend', 'cffi'}\n"
    "ALLOWED |= {'pbcount_verifier', '__main__'}\n"
    "class Block(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        root = name.split('.')[0]\n"
    "        if root not in ALLOWED and not (root == 'engine' and name in OK_ENGINE):\n"
    "            raise ImportError(f'blocked import of {name}')\n"
    "        return None\n"
    "sys.meta_path.insert(0, Block())\n"
)


def _run_blocked(code: str, *args: str, cwd: Path, ok_engine: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    prelude = f"OK_ENGINE = {set(ok_engine)!r}\n" + BLOCKER
    return subprocess.run([sys.executable, "-I", "-c", prelude + code, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180)


def test_verifier_zip_runs_alone_with_only_stdlib_and_cryptography(published: Path, tmp_path: Path,
                                                                   pub_pem: bytes) -> None:
    """``python pbcount-verifier.zip BUNDLE`` on a machine without pbcount: every other
    package is blocked, and every rule (greedy, MES, exact) is there."""
    from engine.verifier.archive import build_verifier_zip

    zip_path = tmp_path / "pbcount-verifier.zip"
    zip_path.write_bytes(build_verifier_zip())
    assert build_verifier_zip() == zip_path.read_bytes()  # deterministic
    (tmp_path / "results.pub").write_bytes(pub_pem)
    code = ("import runpy; zp, b, k = sys.argv[1:4]; sys.argv = [zp, b, '--key', k, '-q']; sys.path.insert(0, zp)\n"
            "try:\n    runpy.run_path(zp, run_name='__main__')\nexcept SystemExit:\n"
            "    from pbcount_verifier.rules_reference import RULES\n"
            "    print('RULES', sorted(RULES))\n"
            "    print('FOREIGN', sorted(m for m in sys.modules if m.split('.')[0] in "
            "('engine', 'pbcount', 'api', 'numpy', 'sqlalchemy', 'typer', 'rich', 'scipy', 'highspy')))\n"
            "    raise\n")
    r = _run_blocked(code, str(zip_path), str(published), str(tmp_path / "results.pub"), cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("VERIFIED")
    assert "FOREIGN []" in r.stdout
    assert all(f"'{rule}'" in r.stdout for rule in ("greedy", "greedy-stop", "mes", "mes-add1-comparison", "exact"))
    plain = subprocess.run([sys.executable, str(zip_path), str(published), "-q"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=180)
    assert plain.returncode == 0 and plain.stdout.startswith("VERIFIED"), plain.stdout + plain.stderr


def test_engine_verifier_package_imports_with_everything_else_blocked(published: Path) -> None:
    """``import engine.verifier`` needs only ``engine/__init__.py`` (a version string) and the
    package itself: pbcount, numpy, sqlalchemy, the rest of the engine are blocked."""
    import engine.verifier as pkg

    mods = {f"engine.verifier.{p.stem}" for p in Path(pkg.__file__).parent.glob("*.py")} | {"engine", "engine.verifier"}
    code = ("sys.path.insert(0, sys.argv[1])\nimport engine.verifier as v\n"
            "print(v.verify_bundle(__import__('pathlib').Path(sys.argv[2])).counted)\n")
    r = _run_blocked(code, str(REPO), str(published), cwd=REPO, ok_engine=tuple(sorted(mods)))
    assert r.returncode == 0, r.stdout + r.stderr
    assert int(r.stdout.strip()) > 0


def test_python_dash_m_engine_verify_exit_codes(published: Path, tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "engine.verifier", str(published), "-q"], cwd=REPO,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("VERIFIED"), ok.stdout + ok.stderr
    bad = tmp_path / "bad"
    shutil.copytree(published, bad)
    (bad / "envelopes.csv").write_text("tampered\n")
    r = subprocess.run([sys.executable, "-m", "engine.verifier", str(bad), "-q"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    assert r.stdout.startswith("FAILED: envelopes.csv: sha256:")


def test_pbcount_verify_cli(bundle: Path, small_paris: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(bundle), "--key", str(small_paris / "keys" / "results.pub")])
    assert ok.exit_code == 0, ok.output
    assert "VERIFIED" in ok.output
    (bundle / "tally.json").write_text("{}")
    bad = runner.invoke(app, ["verify", str(bundle)])
    assert bad.exit_code == 1
    assert "FAILED" in bad.output and "tally.json" in bad.output


def test_verifier_modules_import_only_stdlib_cryptography_and_each_other() -> None:
    """Static twin of the blocked-import runs: no absolute import of pbcount code at all
    (the package's modules import each other relatively, so the zip can rename it)."""
    allowed = set(sys.stdlib_module_names) | {"cryptography"}
    for path in sorted((REPO / "engine" / "verifier").glob("*.py")):
        for x in path.read_text(encoding="utf-8").splitlines():
            if x.startswith(("import ", "from ")):
                mod = x.split()[1]
                assert mod.startswith(".") or mod.split(".")[0] in allowed, f"{path.name}: {x}"


def test_well_signed_nonsense_is_a_named_format_failure(bundle: Path, key: Ed25519PrivateKey,
                                                        pub_pem: bytes) -> None:
    """Odd shapes (a list where an object belongs) never crash the verifier."""
    t = read_json(bundle / "tally.json")
    t["envelopes"] = {env: [1, 2] for env in t["envelopes"]}
    write_json(bundle / "tally.json", t)
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("tally.json", "format")


def test_audit_details_of_another_shape(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes) -> None:
    p = bundle / "audit.jsonl"
    lines = p.read_text(encoding="utf-8").split("\n")[:-1]
    e = json.loads(lines[-1])
    e["details"] = ["not", "an", "object"]
    body = {k: e[k] for k in ("seq", "at", "actor", "action", "details", "prev_hash")}
    e["entry_hash"] = hashlib.sha256(canonical(body).encode()).hexdigest()  # a consistent chain
    lines[-1] = canonical(e)
    p.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == ("audit.jsonl", "publish_entry")


# ---------------------------------------------------------------- nothing unsigned (issue 13.12)


def test_unsigned_top_level_key_in_the_manifest_is_refused(bundle: Path, pub_pem: bytes) -> None:
    m = read_json(bundle / "manifest.json")
    m["results_note"] = "the city council approved these results"  # not covered by the signature
    write_json(bundle / "manifest.json", m)
    f = failure(bundle, pub_pem)
    assert (f.file, f.check) == ("manifest.json", "unsigned") and "results_note" in f.detail


def test_unsigned_text_inside_the_signature_object_is_refused(bundle: Path, pub_pem: bytes) -> None:
    m = read_json(bundle / "manifest.json")
    m["signature"]["signed_bytes"] = "whatever the forger wants to say"
    write_json(bundle / "manifest.json", m)
    assert (failure(bundle, pub_pem).check) == "unsigned"
    m["signature"]["signed_bytes"] = read_json(bundle.parent / "bundle" / "manifest.json")["signature"]["signed_bytes"]
    m["signature"]["comment"] = "unsigned"
    write_json(bundle / "manifest.json", m)
    assert (failure(bundle, pub_pem).check) == "unsigned"


def test_duplicate_key_inside_signed_is_refused(bundle: Path, pub_pem: bytes) -> None:
    """A reader that keeps the first of two keys would see another head than the one signed."""
    text = (bundle / "manifest.json").read_text(encoding="utf-8")
    m = read_json(bundle / "manifest.json")
    forged = text.replace('  "publication": ', f'  "root_hash": "{"0" * 64}",\n  "publication": ', 1)
    assert forged != text and read_json(bundle / "manifest.json") == m
    (bundle / "manifest.json").write_text(forged, encoding="utf-8")
    f = failure(bundle, pub_pem)
    assert (f.file, f.check) == ("manifest.json", "duplicate_key") and "root_hash" in f.detail


@pytest.mark.parametrize("name", ["tally.json", "audit.jsonl", "ballots.jsonl"])
def test_duplicate_keys_in_a_signed_file_are_refused(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes,
                                                     name: str) -> None:
    p = bundle / name
    text = p.read_text(encoding="utf-8")
    if name == "tally.json":
        forged = text.replace('\n "rejected_total": ', '\n "rejected_total": 999999,\n "rejected_total": ', 1)
    else:
        forged = text.replace('{"', '{"zz":1,"zz":1,"', 1)  # first line of the file
    assert forged != text
    p.write_text(forged, encoding="utf-8")
    f = resigned_failure(bundle, key, pub_pem)
    assert (f.file, f.check) == (name, "duplicate_key"), f


def test_files_the_signature_does_not_cover_are_listed(bundle: Path, pub_pem: bytes) -> None:
    (bundle / "correction.csv").write_text("envelope_id,project_id\n", encoding="utf-8")
    (bundle / "README.txt").write_text("extra", encoding="utf-8")
    f = failure(bundle, pub_pem)
    assert (f.file, f.check) == ("manifest.json", "unexpected_files")
    assert "README.txt" in f.detail and "correction.csv" in f.detail


@pytest.mark.parametrize(("name", "row", "column"), [
    ("summary.csv", "voters_paper", "value"),
    ("turnout.csv", "paper", "ballots"),
    ("categories.csv", None, "projects_funded"),
    ("districts.csv", None, "spent"),
])
def test_altered_summary_turnout_and_breakdown_csvs(bundle: Path, key: Ed25519PrivateKey, pub_pem: bytes,
                                                      name: str, row: str | None, column: str) -> None:
    """Issue 17: the journalists' CSVs are in the signed bundle and recomputed by the verifier,
    so a re-signed edit of one figure fails on that file, line and column."""
    assert verify_bundle(bundle, key_pem=pub_pem).counted > 0  # untouched: verifies
    p = bundle / name
    rows = p.read_text(encoding="utf-8").split("\n")
    header = rows[0].split(",")
    at = next(i for i, r in enumerate(rows[1:], start=1) if row is None or row in r.split(",")[:2])
    cells = rows[at].split(",")
    col = header.index(column)
    cells[col] = str(int(cells[col] or 0) + 1)
    rows[at] = ",".join(cells)
    p.write_text("\n".join(rows), encoding="utf-8")
    resign(bundle, key)
    f = failure(bundle, pub_pem)
    assert (f.file, f.line, f.check) == (name, at + 1, column)
