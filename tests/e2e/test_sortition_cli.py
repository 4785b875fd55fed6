"""``pbcount sortition draw|verify`` end to end (files on disk, the results key of ``keys init``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pbcount.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]

FEATURES = """feature,value,min,max
gender,f,4,5
gender,m,4,5
gender,x,0,1
age,16-29,2,4
age,30-59,3,5
age,60+,2,4
"""


def world(tmp_path: Path) -> tuple[Path, Path, Path]:
    keys = tmp_path / "keys"
    assert runner.invoke(app, ["keys", "init", "--keys", str(keys)]).exit_code == 0
    pool = tmp_path / "pool.csv"
    genders, ages = "fmfmfmx", ["16-29", "30-59", "60+", "30-59"]
    pool.write_text("id,first_name,gender,age,street,postcode\n" + "".join(
        f"R{i:03d},Name{i},{genders[i % 7]},{ages[i % 4]},{i // 2} Grande Rue,5900{i % 3}\n" for i in range(60)),
        encoding="utf-8")
    features = tmp_path / "features.csv"
    features.write_text(FEATURES, encoding="utf-8")
    return keys, pool, features


def draw(tmp_path: Path, out: str, *extra: str, seed: str = "drand 4815162 5f1e0c") -> tuple[int, str, str]:
    keys, pool, features = world(tmp_path) if not (tmp_path / "keys").exists() else (
        tmp_path / "keys", tmp_path / "pool.csv", tmp_path / "features.csv")
    res = runner.invoke(app, ["sortition", "draw", "--pool", str(pool), "--features", str(features), "--size", "10",
                              "--seed", seed, "--out", str(tmp_path / out), "--keys", str(keys), *extra])
    return res.exit_code, res.stdout, res.stderr


def test_draw_then_verify(tmp_path: Path) -> None:
    keys, pool, features = world(tmp_path)
    res = runner.invoke(app, ["sortition", "commit", "--pool", str(pool), "--features", str(features),
                              "--address-columns", "street,postcode"])
    commitment = json.loads(res.stdout)
    code, out, err = draw(tmp_path, "rec", "--address-columns", "street,postcode", "--json")
    assert code == 0, err
    doc = json.loads(out)
    # the hashes published before the seed are the ones in the record
    assert (doc["pool_sha256"], doc["features_sha256"]) == (commitment["pool_sha256"], commitment["features_sha256"])
    assert len(doc["panel"]) == 10 and doc["household_rule"] is True
    rec = tmp_path / "rec"
    assert (rec / "panel.csv").read_text().splitlines()[1:] == doc["panel"]
    assert "Name" not in "".join(p.read_text() for p in rec.iterdir())
    res = runner.invoke(app, ["sortition", "verify", str(rec), "--key", str(tmp_path / "keys" / "results.pub"),
                              "--source", str(tmp_path / "pool.csv")])
    assert res.exit_code == 0 and "the draw re-derives bit for bit" in res.stdout
    # a swapped member
    lines = (rec / "panel.csv").read_text().splitlines()
    outsider = next(f"R{i:03d}" for i in range(60) if f"R{i:03d}" not in lines)
    (rec / "panel.csv").write_text("\n".join([lines[0], outsider, *lines[2:]]) + "\n")
    res = runner.invoke(app, ["sortition", "verify", str(rec)])
    assert res.exit_code == 1 and "FAIL panel.csv: changed since it was signed" in res.stdout
    assert "FAIL panel.csv: differs from the re-derived draw" in res.stdout


def test_verify_with_the_wrong_source_and_overwrite_refused(tmp_path: Path) -> None:
    assert draw(tmp_path, "rec")[0] == 0
    other = tmp_path / "other.csv"
    other.write_text("id,gender,age\n", encoding="utf-8")
    res = runner.invoke(app, ["sortition", "verify", str(tmp_path / "rec"), "--source", str(other)])
    assert res.exit_code == 1 and "differs from record.json's source_sha256" in res.stdout
    code, _, err = draw(tmp_path, "rec")
    assert code == 2 and "not empty" in err


def test_infeasible_quotas_are_explained(tmp_path: Path) -> None:
    world(tmp_path)
    (tmp_path / "features.csv").write_text(FEATURES.replace("gender,x,0,1", "gender,x,9,9"), encoding="utf-8")
    code, _, err = draw(tmp_path, "rec")
    assert code == 2 and "feature gender: the minimums add up to 17, more than the panel size 10" in err
    assert not (tmp_path / "rec").exists()


def test_urns_and_proposals(tmp_path: Path) -> None:
    code, out, err = draw(tmp_path, "urns", "--method", "urns", "--urn-feature", "gender", "--json")
    assert code == 0, err
    assert json.loads(out)["algorithm"] == "alternating-urns/1"
    assert runner.invoke(app, ["sortition", "verify", str(tmp_path / "urns")]).exit_code == 0
    proposals = tmp_path / "proposals.csv"
    proposals.write_text("id,category,title\n" + "".join(
        f"PR{i},{['green', 'culture', 'mobility'][i % 3]},Idea {i}\n" for i in range(12)), encoding="utf-8")
    cats = tmp_path / "categories.csv"
    cats.write_text("feature,value,min,max\ncategory,green,1,2\ncategory,culture,1,2\ncategory,mobility,1,2\n",
                    encoding="utf-8")
    res = runner.invoke(app, ["sortition", "draw", "--pool", str(proposals), "--features", str(cats), "--size",
                              "4", "--seed", "lottery 3 9 27", "--out", str(tmp_path / "prop"), "--keys",
                              str(tmp_path / "keys"), "--json"])
    assert res.exit_code == 0, res.stderr
    assert len(json.loads(res.stdout)["panel"]) == 4
    assert runner.invoke(app, ["sortition", "verify", str(tmp_path / "prop")]).exit_code == 0


@pytest.mark.slow
def test_records_are_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    """What sortition-algorithms 0.12.15 does not give: the same draw whatever PYTHONHASHSEED is."""
    keys, pool, features = world(tmp_path)
    records = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"rec{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-m", "pbcount", "sortition", "draw", "--pool", str(pool),
                        "--features", str(features), "--size", "10", "--seed", "public seed", "--out", str(out),
                        "--keys", str(keys)], check=True, cwd=ROOT, env=env, capture_output=True)
        records.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert records[0] == records[1]


def test_the_worked_example_of_the_docs(tmp_path: Path) -> None:
    """docs/sortition.md quotes these figures (fixtures/sortition/)."""
    fx = ROOT / "fixtures" / "sortition"
    keys = tmp_path / "keys"
    runner.invoke(app, ["keys", "init", "--keys", str(keys)])
    seed = "drand quicknet round 12345678: 8e2b4c"
    res = runner.invoke(app, ["sortition", "draw", "--pool", str(fx / "pool.csv"), "--features",
                              str(fx / "features.csv"), "--size", "4", "--address-columns", "household", "--seed",
                              seed, "--out", str(tmp_path / "panel"), "--keys", str(keys), "--json"])
    doc = json.loads(res.stdout)
    assert doc["ticket"] == 1919818024 and doc["total_weight"] == 4294967295 and doc["panels"] == 3
    assert set((tmp_path / "panel" / "probabilities.csv").read_text().splitlines()[1:]) == {
        f"R{i:02d},1431655765,4294967295,0.333333333" for i in range(1, 13)}
    lottery = (tmp_path / "panel" / "lottery.csv").read_text().splitlines()[1:]
    assert lottery[1] == "2,1431655765,2:1;4:1;7:1;11:1" and doc["panel"] == ["R02", "R04", "R07", "R11"]
    types = (tmp_path / "panel" / "types.csv").read_text().splitlines()
    assert types[0] == "type,size,members" and types[2] == "2,1,R02"  # one household each: types of one
    res = runner.invoke(app, ["sortition", "draw", "--pool", str(fx / "pool.csv"), "--features",
                              str(fx / "features.csv"), "--size", "4", "--method", "urns", "--urn-feature", "gender",
                              "--seed", seed, "--out", str(tmp_path / "urns"), "--keys", str(keys)])
    assert (tmp_path / "urns" / "draw_order.csv").read_text().split() == ["turn,id", "1,R09", "2,R06", "3,R01",
                                                                         "4,R12"]
    res = runner.invoke(app, ["sortition", "draw", "--pool", str(fx / "proposals.csv"), "--features",
                              str(fx / "categories.csv"), "--size", "3", "--seed", "Loto 2026-12-02: 4 11 23 37 45 / 7",
                              "--out", str(tmp_path / "prop"), "--keys", str(keys), "--json"])
    assert json.loads(res.stdout)["panel"] == ["PR1", "PR5", "PR6"]
