"""HiGHS, set up one way for every optimisation in pbcount (``exact``/``cuts`` rules, sortition).

Deterministic: one thread, solver seed 0, no relative MIP gap, so that the same inputs give
the same answer with the same HiGHS version; the solver's licence banner (printed on C-level
stdout when the first ``Highs`` object is created) is kept out of ``--json`` output.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

SparseRow = tuple[Sequence[int], Sequence[float]]  # column indices, coefficients


@contextmanager
def quiet_stdout() -> Iterator[None]:
    """HiGHS prints a licence banner on C-level stdout when first created; keep --json clean."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def new_solver(**options: Any) -> Any:
    """A silent ``highspy.Highs``: one thread, ``random_seed`` 0, ``mip_rel_gap`` 0, then ``options``."""
    import highspy

    with quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    for name, value in {"threads": 1, "random_seed": 0, "mip_rel_gap": 0.0, **options}.items():
        h.setOptionValue(name, value)
    return h


def rowwise_model(cost: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                  rows: Sequence[tuple[SparseRow, float, float]], integer: Sequence[bool] | None) -> Any:
    """A ``highspy.HighsLp`` minimising ``cost @ x`` with bounds, ``lo <= row @ x <= hi`` rows
    (sparse, row-wise) and the columns marked in ``integer`` integral (None: an LP)."""
    import highspy

    n = len(cost)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.array([lo for _, lo, _ in rows], dtype=np.float64)
    lp.row_upper_ = np.array([hi for _, _, hi in rows], dtype=np.float64)
    starts: list[int] = [0]
    index: list[int] = []
    value: list[float] = []
    for (cols, coeffs), _, _ in rows:
        index.extend(cols)
        value.extend(coeffs)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    if integer is not None:
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in integer]
    return lp
