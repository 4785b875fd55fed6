"""A small HiGHS wrapper for the sortition LPs and ILPs (single thread, fixed solver seed).

Same inputs give the same answers with the same HiGHS version; the version is recorded
with every draw (:func:`highs_version`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.rules.exact import _quiet_stdout

Row = tuple[dict[int, float], float, float]  # coefficients by column, lower, upper


@dataclass(frozen=True)
class Solution:
    status: str  # "optimal" | "infeasible"
    x: np.ndarray
    objective: float
    row_dual: np.ndarray


def highs_version() -> str:
    import highspy

    with _quiet_stdout():
        h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def solve(cost: np.ndarray, rows: list[Row], lower: np.ndarray, upper: np.ndarray,
          integer: np.ndarray | None = None) -> Solution:
    """Minimise ``cost @ x`` with ``lo <= row @ x <= hi`` and bounds; ``integer`` marks ILP columns."""
    import highspy

    n = len(cost)
    with _quiet_stdout():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = len(rows)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.array([lo for _, lo, _ in rows], dtype=np.float64)
    lp.row_upper_ = np.array([hi for _, _, hi in rows], dtype=np.float64)
    starts, index, value = [0], [], []
    for coeffs, _, _ in rows:
        for j in sorted(coeffs):
            index.append(j)
            value.append(coeffs[j])
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(value, dtype=np.float64)
    if integer is not None:
        lp.integrality_ = [highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous
                           for b in integer]
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return Solution("infeasible", np.zeros(n), float("nan"), np.zeros(len(rows)))
    if status != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"HiGHS did not solve the sortition model: {h.modelStatusToString(status)}")
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=np.float64)
    duals = np.asarray(sol.row_dual, dtype=np.float64) if integer is None else np.zeros(len(rows))
    return Solution("optimal", x, float(cost @ x), duals)


class IncrementalLP:
    """An LP that grows by rows, re-solved by warm-started simplex after each addition
    (column generation: the dual LP gains one row per new panel). Same determinism as
    :func:`solve`."""

    def __init__(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        import highspy

        with _quiet_stdout():
            self._h = highspy.Highs()
            self._h.setOptionValue("output_flag", False)
        self._h.setOptionValue("threads", 1)
        self._h.setOptionValue("random_seed", 0)
        n = len(cost)
        self._n = n
        self._h.addVars(n, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
        self._h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=np.float64))
        self._rows = 0

    def add_row(self, coeffs: dict[int, float], lo: float, hi: float) -> None:
        idx = sorted(coeffs)
        self._h.addRow(float(lo), float(hi), len(idx), np.array(idx, dtype=np.int32),
                       np.array([coeffs[j] for j in idx], dtype=np.float64))
        self._rows += 1

    def change_cost(self, col: int, cost: float) -> None:
        """Change one column's cost; the next :meth:`run` starts from the current basis."""
        self._h.changeColCost(int(col), float(cost))

    def change_coeff(self, row: int, col: int, value: float) -> None:
        """Change one matrix entry (0.0 removes it); the next :meth:`run` is warm-started."""
        self._h.changeCoeff(int(row), int(col), float(value))

    def run(self) -> Solution:
        import highspy

        self._h.run()
        status = self._h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return Solution("infeasible", np.zeros(self._n), float("nan"), np.zeros(self._rows))
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"HiGHS did not solve the sortition LP: {self._h.modelStatusToString(status)}")
        sol = self._h.getSolution()
        x = np.asarray(sol.col_value, dtype=np.float64)
        return Solution("optimal", x, float(self._h.getInfo().objective_function_value),
                        np.asarray(sol.row_dual, dtype=np.float64))
