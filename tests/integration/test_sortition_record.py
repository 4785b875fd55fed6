"""The signed sortition record: verify re-derives it bit for bit and catches every change."""

from __future__ import annotations

import json
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.sortition import parse_features, parse_pool
from engine.sortition.record import build_record, sign, verify_record

FEATURES = """feature,value,min,max
gender,f,3,4
gender,m,3,4
gender,x,0,2
district,d1,3,5
district,d2,3,5
"""


def pool_text(n: int = 30) -> str:
    rng = random.Random(3)
    return "id,gender,district,name,street\n" + "".join(
        f"P{i},{rng.choice('ffmmx')},{rng.choice(['d1', 'd2'])},Person {i},{i // 3} Rue Haute\n"
        for i in range(n))


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def record(key: Ed25519PrivateKey) -> dict[str, bytes]:
    f = parse_features(FEATURES)
    p = parse_pool(pool_text(), f, address_columns=("street",))
    return build_record(p, f, 8, "drand 5000000 0a1b2c", key, source_sha256="ab" * 32)[1]


def resign(files: dict[str, bytes], key: Ed25519PrivateKey) -> dict[str, bytes]:
    """What an insider holding the results key could do: change a file and sign again."""
    return sign({k: v for k, v in files.items() if k not in ("manifest.json", "results.pub")}, key)


def test_record_contents(record: dict[str, bytes]) -> None:
    assert sorted(record) == ["features.csv", "lottery.csv", "manifest.json", "panel.csv", "pool.csv",
                              "probabilities.csv", "record.json", "results.pub", "types.csv"]
    rec = json.loads(record["record.json"])
    assert rec["method"] == "leximin" and rec["algorithm"] == "leximin-types/1"
    assert rec["seed"] == "drand 5000000 0a1b2c" and rec["solver"].startswith("HiGHS ")
    assert rec["household_rule"] is True and rec["size"] == 8
    panel = record["panel.csv"].decode().split()
    assert panel[0] == "id" and len(panel) == 9
    text = b"".join(record.values()).decode()
    assert "Person" not in text and "Rue Haute" not in text  # pseudonymous ids only
    probs = record["probabilities.csv"].decode().splitlines()
    assert probs[0] == "id,numerator,denominator,probability" and len(probs) == 31


def test_verify_accepts_the_record(record: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    assert verify_record(record, key.public_key()) == []
    assert verify_record(record) == []


def test_same_inputs_give_byte_identical_records(record: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    f = parse_features(FEATURES)
    p = parse_pool(pool_text(), f, address_columns=("street",))
    again = build_record(p, f, 8, "drand 5000000 0a1b2c", key, source_sha256="ab" * 32)[1]
    assert again == record


def swap_member(files: dict[str, bytes]) -> dict[str, bytes]:
    ids = files["panel.csv"].decode().split()[1:]
    outsider = next(line.split(",")[0] for line in files["pool.csv"].decode().split()[1:]
                    if line.split(",")[0] not in ids)
    out = dict(files)
    out["panel.csv"] = ("id\n" + "\n".join(sorted([outsider, *ids[1:]])) + "\n").encode()
    return out


def test_verify_catches_a_swapped_member(record: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    forged = swap_member(record)
    assert "panel.csv: changed since it was signed (SHA-256 differs from the manifest)" in verify_record(
        forged, key.public_key())
    # even signed again with the results key, the draw does not re-derive
    assert verify_record(resign(forged, key), key.public_key()) == [
        "panel.csv: differs from the re-derived draw"]


def test_verify_catches_a_changed_pool(record: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    lines = record["pool.csv"].decode().splitlines()
    pid, gender, rest = lines[1].split(",", 2)
    lines[1] = ",".join([pid, "m" if gender != "m" else "f", rest])
    forged = dict(record, **{"pool.csv": ("\n".join(lines) + "\n").encode()})
    problems = verify_record(forged, key.public_key())
    assert "pool.csv: changed since it was signed (SHA-256 differs from the manifest)" in problems
    assert "pool.csv: its SHA-256 differs from record.json's pool_sha256" in problems
    assert "pool.csv: its SHA-256 differs from record.json's pool_sha256" in verify_record(
        resign(forged, key), key.public_key())


def test_verify_catches_a_changed_seed(record: dict[str, bytes], key: Ed25519PrivateKey) -> None:
    from engine.sortition.leximin_types import draw_from_types, leximin_types
    from engine.sortition.seed import SeedStream

    f = parse_features(FEATURES)
    p = parse_pool(pool_text(), f, address_columns=("street",))
    lottery = leximin_types(p, f, 8)
    drawn = draw_from_types(lottery, SeedStream("drand 5000000 0a1b2c"))[1]
    # another seed drawing the same panel, and one drawing another panel: both are caught
    seeds = [f"drand {5000001 + k} ffffff" for k in range(400)]
    same = next(s for s in seeds if draw_from_types(lottery, SeedStream(s))[1] == drawn)
    other = next(s for s in seeds if draw_from_types(lottery, SeedStream(s))[1] != drawn)
    for seed, panel_changes in ((same, False), (other, True)):
        rec = json.loads(record["record.json"])
        rec["seed"] = seed
        forged = dict(record, **{"record.json": json.dumps(rec, indent=2, sort_keys=True, ensure_ascii=False)
                                 .encode() + b"\n"})
        assert "record.json: changed since it was signed (SHA-256 differs from the manifest)" in verify_record(
            forged, key.public_key())
        problems = verify_record(resign(forged, key), key.public_key())
        assert "record.json: differs from the re-derived draw" in problems  # the ticket no longer matches
        assert ("panel.csv: differs from the re-derived draw" in problems) is panel_changes


def test_verify_catches_another_key_and_missing_files(record: dict[str, bytes]) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    assert verify_record(record, other) == ["manifest.json: the signature does not verify with the results key"]
    missing = {k: v for k, v in record.items() if k != "lottery.csv"}
    assert "lottery.csv: listed in the manifest but missing" in verify_record(missing)
    assert verify_record({})[0].startswith("manifest.json missing or malformed")


def test_urn_record_verifies_and_catches_a_changed_order(key: Ed25519PrivateKey) -> None:
    f = parse_features(FEATURES)
    p = parse_pool(pool_text(), f)
    result, files = build_record(p, f, 6, "lottery 2026-12-01", key, method="urns", urn_feature="gender")
    assert "draw_order.csv" in files and "lottery.csv" not in files
    assert json.loads(files["record.json"])["urn_feature"] == "gender"
    assert verify_record(files, key.public_key()) == []
    rows = files["draw_order.csv"].decode().splitlines()
    rows[1], rows[2] = rows[1].replace("1,", "2,", 1), rows[2].replace("2,", "1,", 1)
    forged = resign(dict(files, **{"draw_order.csv": ("\n".join([rows[0], rows[2], rows[1], *rows[3:]]) + "\n")
                                   .encode()}), key)
    assert verify_record(forged, key.public_key()) == ["draw_order.csv: differs from the re-derived draw"]


def test_a_record_from_another_software_version_still_verifies(record: dict[str, bytes],
                                                               key: Ed25519PrivateKey) -> None:
    """Version strings are recorded, not re-derived: an upgrade of pbcount or HiGHS that finds
    the same lottery verifies old records."""
    rec = json.loads(record["record.json"])
    rec["pbcount_version"], rec["solver"] = "0.0.9", "HiGHS 1.7.0"
    older = resign(dict(record, **{"record.json": json.dumps(rec, indent=2, sort_keys=True, ensure_ascii=False)
                                   .encode() + b"\n"}), key)
    assert verify_record(older, key.public_key()) == []
    rec["ticket"] += 1  # a real difference is still caught, with the versions named
    forged = resign(dict(record, **{"record.json": json.dumps(rec, indent=2, sort_keys=True, ensure_ascii=False)
                                    .encode() + b"\n"}), key)
    problems = verify_record(forged, key.public_key())
    assert problems[0] == "record.json: differs from the re-derived draw"
    assert any("the draw used HiGHS 1.7.0" in p for p in problems)
    assert any("the draw used pbcount 0.0.9" in p for p in problems)


def test_a_record_of_the_per_person_leximin_still_verifies(key: Ed25519PrivateKey) -> None:
    """Records drawn before leximin-types/1 name leximin-colgen/2 and re-derive with it."""
    from engine.sortition.draw import draw
    from engine.sortition.record import record_files

    f = parse_features(FEATURES)
    p = parse_pool(pool_text(), f, address_columns=("street",))
    old = draw(p, f, 8, "drand 5000000 0a1b2c", "leximin", algorithm="leximin-colgen/2")
    files = sign(record_files(p, f, old), key)
    assert json.loads(files["record.json"])["algorithm"] == "leximin-colgen/2" and "types.csv" not in files
    assert verify_record(files, key.public_key()) == []
    swapped = dict(files, **{"lottery.csv": files["lottery.csv"].replace(b"\n2,", b"\n3,", 1)})
    assert any("lottery.csv" in x for x in verify_record(resign(swapped, key), key.public_key()))

