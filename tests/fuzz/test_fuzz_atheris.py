"""Coverage-guided fuzzing (atheris) of the readers of untrusted bytes, bounded for CI.

Each target of ``tests/fuzz/atheris_targets.py`` runs in its own process (libFuzzer exits
the process) for a fixed number of inputs from a small seed corpus, with a fixed seed.
A finding fails the test with libFuzzer's report (the exception, the input in hex). The
targets can also be run unbounded by hand (see that file).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris is a test dependency (pip install -e '.[test]')")

HARNESS = Path(__file__).resolve().parent / "atheris_targets.py"
RUNS = 6000


@pytest.mark.parametrize("target", ["evote", "token", "pb", "election"])
def test_atheris_target_finds_nothing(target: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()  # empty: the harness puts its seed inputs in it
    proc = subprocess.run(
        [sys.executable, str(HARNESS), target, f"-runs={RUNS}", "-seed=1", "-max_len=4096", "-timeout=20",
         "-rss_limit_mb=2048", str(corpus)],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert f"Done {RUNS} runs" in proc.stderr, proc.stderr[-2000:]  # it really ran
