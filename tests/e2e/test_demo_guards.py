"""``pbcount demo`` guards (issue 13, smaller items): it never deletes a folder it did not
create, and a too small ``--voters`` is a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pbcount.cli import app


def test_demo_refuses_a_folder_it_did_not_create(tmp_path: Path) -> None:
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    r = CliRunner().invoke(app, ["demo", "--dir", str(mine), "--voters", "2000"])
    assert r.exit_code != 0 and "not created by pbcount demo" in r.output, r.output
    assert (mine / "chapter1.tex").read_text() == "precious"
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit)


def test_demo_with_too_few_voters_is_a_message(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--voters", "10"])
    assert r.exit_code != 0 and "--voters" in r.output, r.output
    assert isinstance(r.exception, SystemExit), r.exception
    assert not (tmp_path / "d").exists()
