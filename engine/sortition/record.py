"""The draw record (a directory of small files) and its verification.

Files (all UTF-8, ``\\n`` line ends, byte-identical for identical inputs):

* ``pool.csv`` — id (pseudonymous), feature columns, ``household`` group number if the
  household rule applies. Names, e-mails and addresses never enter the record.
* ``features.csv`` — the quotas (``feature,value,min,max``).
* ``record.json`` — method, algorithm and version, HiGHS version, pbcount version, size,
  seed, urn feature, SHA-256 of pool.csv / features.csv and of the organiser's source file,
  the ticket and total weight (leximin/maximin), people on no panel, quotas not met (urns).
* ``probabilities.csv`` — ``id,numerator,denominator,probability`` for every person.
* ``lottery.csv`` — leximin/maximin only: ``panel,weight,members`` (members ``;``-separated);
  for ``leximin-types/1`` ``panel,weight,counts``: each composition's weight and how many
  of each type sit (``type:count``, ``;``-separated, types with a count only).
* ``types.csv`` — ``leximin-types/1`` only: ``type,size,members`` (members ``;``-separated):
  the groups of interchangeable people (same feature values, same household).
* ``draw_order.csv`` — urns only: ``turn,id``.
* ``panel.csv`` — ``id`` of every member (id order).
* ``manifest.json`` — SHA-256 of each file above plus an Ed25519 signature (results key)
  over the canonical JSON of ``signed``; ``results.pub`` — the public key.

:func:`verify_record` re-derives the draw from pool.csv, features.csv and record.json and
compares every file byte for byte; any change (a swapped member, an edited pool, another
seed) fails with the reason.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine import __version__
from engine.errors import KeyFileError
from engine.sortition.draw import DrawResult, draw
from engine.sortition.leximin_types import TypeLottery
from engine.sortition.pool import Features, Pool, SortitionInputError, parse_features, parse_pool
from engine.sortition.solver import highs_version

SIGNED_FILES = ("pool.csv", "features.csv", "record.json", "probabilities.csv", "lottery.csv",
                "types.csv", "draw_order.csv", "panel.csv")


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerows(rows)
    return out.getvalue().encode()


def _canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def record_files(pool: Pool, features: Features, result: DrawResult, *, source_sha256: str = "",
                 solver: str | None = None, software: str = __version__) -> dict[str, bytes]:
    """The unsigned record files of a draw (see the module docstring). ``solver`` and
    ``software`` default to the installed HiGHS and pbcount versions (verify passes the
    recorded ones: what must re-derive is the draw, not the version strings)."""
    pool_csv = pool.csv_text().encode()
    features_csv = features.csv_text().encode()
    rec: dict[str, Any] = {
        "format": "pbcount-sortition-record/1",
        "method": result.method,
        "algorithm": result.algorithm_version,
        "pbcount_version": software,
        "size": result.size,
        "seed": result.seed,
        "seed_derivation": "SHA-256(b'pbcount-sortition-v1' 0x00 seed 0x00 uint64_be(block)); "
                           "below(n): 64-bit big-endian words, rejection sampling",
        "household_rule": pool.household is not None,
        "pool_sha256": hashlib.sha256(pool_csv).hexdigest(),
        "features_sha256": hashlib.sha256(features_csv).hexdigest(),
        "source_sha256": source_sha256,
        "pool_size": len(pool.ids),
        "probabilities_exact": result.exact_probabilities,
    }
    files: dict[str, bytes] = {"pool.csv": pool_csv, "features.csv": features_csv}
    probs: list[list[str | int]] = [["id", "numerator", "denominator", "probability"]]
    for i, (a, b) in enumerate(result.probabilities):
        probs.append([pool.ids[i], a, b, f"{a / b:.9f}"])
    if result.lottery is not None:
        lot = result.lottery
        n_panels = len(lot.compositions) if isinstance(lot, TypeLottery) else len(lot.panels)
        rec.update(solver=f"HiGHS {solver or highs_version()}", ticket=result.ticket, total_weight=lot.total,
                   panels=n_panels, column_generation_rounds=lot.rounds,
                   on_no_panel=[pool.ids[i] for i in lot.impossible],
                   min_probability=min(a / b for i, (a, b) in enumerate(result.probabilities)
                                       if i not in set(lot.impossible)))
        if isinstance(lot, TypeLottery):
            files["types.csv"] = _csv([["type", "size", "members"]] + [
                [t + 1, len(members), ";".join(pool.ids[i] for i in members)] for t, members in enumerate(lot.types)])
            files["lottery.csv"] = _csv([["panel", "weight", "counts"]] + [
                [k + 1, w, ";".join(f"{t + 1}:{c}" for t, c in enumerate(comp) if c)]
                for k, (comp, w) in enumerate(zip(lot.compositions, lot.weights, strict=True))])
        else:
            files["lottery.csv"] = _csv([["panel", "weight", "members"]] + [
                [k + 1, w, ";".join(pool.ids[i] for i in panel)]
                for k, (panel, w) in enumerate(zip(lot.panels, lot.weights, strict=True))])
    else:
        rec.update(urn_feature=result.urn_feature, quotas_not_met=list(result.quota_problems))
        files["draw_order.csv"] = _csv([["turn", "id"]] + [[t + 1, pool.ids[i]]
                                                          for t, i in enumerate(result.draw_order)])
    files["record.json"] = json.dumps(rec, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    files["probabilities.csv"] = _csv(probs)
    files["panel.csv"] = _csv([["id"]] + [[pool.ids[i]] for i in result.panel])
    return files


def build_record(pool: Pool, features: Features, size: int, seed: str, key: Ed25519PrivateKey, *,
                 method: str = "leximin", urn_feature: str | None = None, source_sha256: str = "",
                 ) -> tuple[DrawResult, dict[str, bytes]]:
    """Draw and return the signed record's files (name -> bytes)."""
    result = draw(pool, features, size, seed, method, urn_feature)
    return result, sign(record_files(pool, features, result, source_sha256=source_sha256), key)


def sign(files: Mapping[str, bytes], key: Ed25519PrivateKey) -> dict[str, bytes]:
    """Add manifest.json (file hashes + Ed25519 signature) and results.pub."""
    from engine.storage.keyfiles import public_key_pem

    signed = {"format": "pbcount-sortition-manifest/1",
              "files": {n: hashlib.sha256(files[n]).hexdigest() for n in sorted(files) if n in SIGNED_FILES}}
    manifest = {"signed": signed, "signature": {
        "algorithm": "Ed25519", "signed_bytes": "UTF-8 canonical JSON of 'signed' (sorted keys, no spaces)",
        "value": base64.b64encode(key.sign(_canonical(signed))).decode()}}
    out = dict(files)
    out["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    out["results.pub"] = public_key_pem(key.public_key()).encode()
    return out


def verify_record(files: Mapping[str, bytes], key: Ed25519PublicKey | None = None) -> list[str]:
    """Problems found (empty list: the record is authentic and re-derives bit for bit).

    ``key`` is the trusted results key; without it the record's own results.pub is used
    (which only proves the record is self-consistent)."""
    from engine.storage.keyfiles import public_key_from_pem

    problems: list[str] = []
    try:
        manifest = json.loads(files["manifest.json"])
        signed = manifest["signed"]
        signature = base64.b64decode(manifest["signature"]["value"])
    except (KeyError, ValueError, TypeError) as exc:
        return [f"manifest.json missing or malformed ({exc})"]
    try:
        pub = key or public_key_from_pem(files["results.pub"], "results.pub")
        pub.verify(signature, _canonical(signed))
    except InvalidSignature:
        problems.append("manifest.json: the signature does not verify with the results key")
    except (KeyError, KeyFileError) as exc:
        problems.append(f"results key: {exc}")
    listed = signed.get("files", {})
    for name in sorted(set(listed) | {n for n in files if n in SIGNED_FILES}):
        if name not in files:
            problems.append(f"{name}: listed in the manifest but missing")
        elif name not in listed:
            problems.append(f"{name}: not listed in the manifest")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            problems.append(f"{name}: changed since it was signed (SHA-256 differs from the manifest)")
    try:
        rec = json.loads(files["record.json"])
        features = parse_features(files["features.csv"].decode(), "features.csv")
        pool = pool_from_record(files["pool.csv"].decode(), features)
    except (KeyError, ValueError, SortitionInputError) as exc:
        return [*problems, f"cannot re-read the record: {exc}"]
    if hashlib.sha256(files["pool.csv"]).hexdigest() != rec.get("pool_sha256"):
        problems.append("pool.csv: its SHA-256 differs from record.json's pool_sha256")
    try:
        result = draw(pool, features, int(rec["size"]), str(rec["seed"]), str(rec["method"]),
                      rec.get("urn_feature"), rec.get("algorithm"))
        solver = None
        if result.lottery is not None and isinstance(rec.get("solver"), str):
            solver = rec["solver"].removeprefix("HiGHS ")
        again = record_files(pool, features, result, source_sha256=str(rec.get("source_sha256", "")),
                             solver=solver, software=str(rec.get("pbcount_version", __version__)))
    except (KeyError, ValueError, TypeError, RuntimeError, SortitionInputError) as exc:
        return [*problems, f"cannot re-derive the draw: {exc}"]
    for name in sorted(again):
        if files.get(name) != again[name]:
            problems.append(f"{name}: differs from the re-derived draw")
    if result.lottery is not None and rec.get("solver") != f"HiGHS {highs_version()}" and problems:
        problems.append(f"note: the draw used {rec.get('solver')}, this machine has HiGHS {highs_version()}; "
                        "a different solver version may find another (equally fair) lottery")
    if rec.get("pbcount_version") != __version__ and problems:
        problems.append(f"note: the draw used pbcount {rec.get('pbcount_version')}, this is {__version__}")
    return problems


def pool_from_record(text: str, features: Features) -> Pool:
    """pool.csv as written in a record (``household`` column = group numbers)."""
    head = next(csv.reader(io.StringIO(text)), [])
    if "household" not in head:
        return parse_pool(text, features, "pool.csv")
    return parse_pool(text, features, "pool.csv", ("household",))
