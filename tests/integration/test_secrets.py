"""Secrets: private key files are 0600 and refused when others can read them; private key
material (authority key, results key, receipt secret) never appears in CLI output, logs
(SQLAlchemy statement logging included), error messages, the database or the bundle."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from engine.errors import KeyFileError
from engine.storage.keyfiles import init_keys, load_private_key, load_receipt_secret
from engine.storage.schema import metadata
from pbcount.cli import app

ENV = {"PBCOUNT_PROGRESS": "0"}


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def secret_needles(keys: Path) -> dict[str, bytes]:
    """Every spelling of the private material a leak could take."""
    needles: dict[str, bytes] = {}
    for name in ("authority", "results"):
        pem = (keys / f"{name}.key").read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        body = b"".join(pem.strip().splitlines()[1:-1])
        needles[f"{name} PEM body"] = body
        needles[f"{name} raw hex"] = raw.hex().encode()
        needles[f"{name} raw b64"] = base64.b64encode(raw).rstrip(b"=")
        needles[f"{name} raw bytes"] = raw
    secret = load_receipt_secret(keys)
    needles["receipt hex"] = secret.hex().encode()
    needles["receipt b64"] = base64.b64encode(secret).rstrip(b"=")
    needles["receipt raw"] = secret
    return needles


def leaks(data: bytes, needles: dict[str, bytes]) -> list[str]:
    low = data.lower()
    return [name for name, n in needles.items() if n in data or n.lower() in low]


def test_keys_init_writes_private_files_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        res = CliRunner().invoke(app, ["keys", "init", "--keys", str(tmp_path / "k")])
    finally:
        os.umask(old)
    assert res.exit_code == 0, res.output
    for name in ("authority.key", "results.key", "receipt.key"):
        assert mode(tmp_path / "k" / name) == 0o600, name
    assert mode(tmp_path / "k" / "authority.pub") & 0o077 != 0o077  # public files exist, readable
    needles = secret_needles(tmp_path / "k")
    assert leaks(res.output.encode(), needles) == []


@pytest.mark.parametrize("unsafe", [0o644, 0o640, 0o604, 0o660])
def test_private_key_readable_by_others_is_refused_naming_the_file(tmp_path: Path, unsafe: int) -> None:
    init_keys(tmp_path)
    needles = secret_needles(tmp_path)
    for name, loader in (("authority.key", lambda: load_private_key(tmp_path)),
                         ("receipt.key", lambda: load_receipt_secret(tmp_path))):
        os.chmod(tmp_path / name, unsafe)
        with pytest.raises(KeyFileError) as err:
            loader()
        assert name in str(err.value) and "chmod 600" in str(err.value)
        assert leaks(str(err.value).encode(), needles) == []
        os.chmod(tmp_path / name, 0o600)


def test_ingest_refuses_a_world_readable_receipt_secret_in_one_line(small_paris: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(small_paris / "keys", keys)
    needles = secret_needles(keys)
    os.chmod(keys / "receipt.key", 0o644)
    res = CliRunner().invoke(app, ["ingest", "evotes", str(small_paris / "evotes.jsonl"), "-e",
                                   str(small_paris / "election.toml"), "--keys", str(keys),
                                   "--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "-j", "1"], env=ENV)
    assert res.exit_code == 2
    assert "receipt.key" in res.output and "readable by others" in res.output
    assert "Traceback" not in res.output
    assert leaks(res.output.encode(), needles) == []


def test_corrupt_private_key_error_does_not_echo_the_file(tmp_path: Path) -> None:
    init_keys(tmp_path)
    pem = (tmp_path / "authority.key").read_bytes()
    lines = pem.splitlines()
    damaged = b"\n".join([lines[0], lines[1][:-6] + b"!!!!!!", *lines[2:]]) + b"\n"
    (tmp_path / "authority.key").write_bytes(damaged)
    with pytest.raises(KeyFileError) as err:
        load_private_key(tmp_path)
    message = str(err.value)
    assert "authority.key" in message
    assert lines[1][:20].decode() not in message  # no part of the key text is echoed


def test_no_private_material_in_outputs_logs_database_or_bundle(
    store_url: str, small_paris: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = tmp_path / "keys"
    shutil.copytree(small_paris / "keys", keys)
    needles = secret_needles(keys)
    runner = CliRunner()
    outputs: list[str] = []
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement + parameters
    steps = [
        ["ingest", "evotes", str(small_paris / "evotes.jsonl"), "-e", str(small_paris / "election.toml"),
         "--keys", str(keys), "--db", store_url, "-j", "1"],
        ["rejections", "list", "--db", store_url, "--format", "jsonl"],
        ["results", "--out", str(tmp_path / "results"), "--db", store_url],
        ["publish", "--out", str(tmp_path / "bundle"), "--db", store_url, "--keys", str(keys)],
        ["verify", str(tmp_path / "bundle"), "--key", str(keys / "results.pub")],
        # errors on the way must not leak either
        ["publish", "--out", str(tmp_path / "bundle2"), "--db", store_url, "--keys", str(tmp_path / "nokeys")],
    ]
    for args in steps:
        res = runner.invoke(app, args, env=ENV)
        outputs.append(res.output)
        if args[-1] != str(tmp_path / "nokeys"):
            assert res.exit_code == 0, (args[:2], res.output)
    assert len(caplog.records) > 100, "statement logging was not captured: the log check proved nothing"
    assert leaks("\n".join(outputs).encode(), needles) == []
    assert leaks("\n".join(r.getMessage() for r in caplog.records).encode(), needles) == []

    # every file written outside the key directory (SQLite db + WAL, CSVs, bundle)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and keys not in p.parents]
    assert any(p.parent.name == "bundle" for p in written)
    for p in written:
        assert leaks(p.read_bytes(), needles) == [], p

    # every value of every table (this is how PostgreSQL is searched)
    engine = create_engine(store_url)
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                text = "\x1f".join(str(v) for v in row).encode()
                assert leaks(text, needles) == [], table.name
    engine.dispose()


def test_the_leak_search_finds_planted_material(tmp_path: Path) -> None:
    """The searches above can fail: each spelling of each secret is found when planted."""
    init_keys(tmp_path)
    needles = secret_needles(tmp_path)
    for name, needle in needles.items():
        assert name in leaks(b"row 17: " + needle + b" ...", needles)
    assert leaks(b"nothing secret here", needles) == []
