"""The CLI starts at once: the root imports no heavy library, commands load what they use.

Checked on ``sys.modules`` / ``-X importtime`` of fresh subprocesses (not timings; the
timing figure is ``benchmarks/bench_cli.py``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pbcount.cli import COMMANDS, app, load_module_commands

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("cv2", "sqlalchemy", "fastapi", "numpy", "highspy", "uvicorn", "alembic", "PIL", "zxingcpp")


def imported_modules(*args: str) -> set[str]:
    """Top-level modules imported by ``python -X importtime -m pbcount ARGS``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "pbcount", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    mods = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            mods.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return mods


def test_importing_the_cli_imports_no_heavy_library() -> None:
    code = (f"import sys, pbcount.cli; heavy = {HEAVY!r}; "
            "print(','.join(m for m in heavy if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"import pbcount.cli imported {proc.stdout.strip()}"


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_root_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    mods = imported_modules(*args)
    assert not mods & set(HEAVY), sorted(mods & set(HEAVY))
    assert "rich" not in mods  # the root help is plain click formatting


@pytest.mark.parametrize(("command", "forbidden"), [
    (["verify", "--help"], ("numpy", "sqlalchemy", "cv2", "fastapi")),  # stdlib + cryptography verifier
    (["keys", "--help"], ("numpy", "sqlalchemy", "cv2", "fastapi")),
    (["tokens", "--help"], ("numpy", "sqlalchemy", "cv2", "fastapi")),
    (["serve", "--help"], ("cv2", "fastapi", "uvicorn", "numpy")),
    (["review", "--help"], ("cv2", "numpy", "fastapi")),
    (["allocate", "--help"], ("cv2", "sqlalchemy", "fastapi")),
])
def test_commands_load_only_what_they_use(command: list[str], forbidden: tuple[str, ...]) -> None:
    mods = imported_modules(*command)
    assert not mods & set(forbidden), f"pbcount {' '.join(command)} imported {sorted(mods & set(forbidden))}"


def test_command_table_matches_the_command_modules() -> None:
    """Every registered command is in COMMANDS with its own one-line help (and nothing else is)."""
    registered: dict[str, str] = {}
    for module in {m for m, _ in COMMANDS.values()}:
        for name, cmd in load_module_commands(module).items():
            registered[name] = cmd.get_short_help_str(200)
            assert COMMANDS[name][0] == module, f"{name} is registered by {module}"
    assert set(registered) == set(COMMANDS)
    for name, (_, text) in COMMANDS.items():
        assert text == registered[name], f"{name}: help in pbcount/cli.py differs from the command's"


def test_version_and_short_help() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["--version"])
    assert out.exit_code == 0 and out.output.startswith("pbcount ")
    for flag in ("-h", "--help"):
        res = runner.invoke(app, [flag])
        assert res.exit_code == 0
        for name in COMMANDS:
            assert f"  {name} " in res.output
    sub = runner.invoke(app, ["keys", "-h"])
    assert sub.exit_code == 0 and "init" in sub.output


def test_unknown_command_suggests_close_names() -> None:
    res = CliRunner().invoke(app, ["kyes"])
    assert res.exit_code != 0 and "keys" in res.output


def test_help_has_examples_and_no_python_type_noise() -> None:
    """``pbcount --help`` shows examples; no command's help shows ``<bool>``, ``<path>``,
    ``<list[Path]>``-style type names."""
    import re

    from typer.testing import CliRunner

    from pbcount.cli import COMMANDS, app

    runner = CliRunner()
    root = runner.invoke(app, ["--help"])
    assert root.exit_code == 0 and "Examples:" in root.output and "pbcount publish --out bundle" in root.output
    names = [line.split()[0] for line in root.output.split("Commands:")[1].splitlines()
             if line.startswith("  ") and not line.startswith("   ") and line.split()]
    assert names[: len(COMMANDS)] == list(COMMANDS)
    for name in ("results", "publish", "verify", "scan", "keys"):
        out = runner.invoke(app, [name, "--help"]).output
        assert not re.search(r"<(bool|str|int|path|list\[\w+\])>", out), (name, out)
