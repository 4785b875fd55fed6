"""A small HiGHS wrapper for the sortition LPs and ILPs (single thread, fixed solver seed).

Same inputs give the same answers with the same HiGHS version; the version is recorded
with every draw (:func:`highs_version`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.highs import new_solver, quiet_stdout, rowwise_model

Row = tuple[dict[int, float], float, float]  # coefficients by column, lower, upper


@dataclass(frozen=True)
class Solution:
    """A solve's outcome: status (``optimal`` or ``infeasible``), the column values, the objective
    and the row duals (zeros for an ILP or an infeasible model).
    """

    status: str  # "optimal" | "infeasible"
    x: np.ndarray
    objective: float
    row_dual: np.ndarray


def highs_version() -> str:
    """The HiGHS version (``major.minor.patch``), recorded with every draw."""
    import highspy

    with quiet_stdout():
        h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def solve(cost: np.ndarray, rows: list[Row], lower: np.ndarray, upper: np.ndarray,
          integer: np.ndarray | None = None) -> Solution:
    """Minimise ``cost @ x`` with ``lo <= row @ x <= hi`` and bounds; ``integer`` marks ILP columns."""
    import highspy

    n = len(cost)
    h = new_solver(mip_abs_gap=1e-9)
    sparse = [((sorted(coeffs), [coeffs[j] for j in sorted(coeffs)]), lo, hi) for coeffs, lo, hi in rows]
    lp = rowwise_model(cost, lower, upper, sparse, None if integer is None else [bool(b) for b in integer])
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
        self._h = new_solver()
        n = len(cost)
        self._n = n
        self._h.addVars(n, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
        self._h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, dtype=np.float64))
        self._rows = 0

    def add_row(self, coeffs: dict[int, float], lo: float, hi: float) -> None:
        """Add the row ``lo <= coeffs @ x <= hi`` (``coeffs``: coefficient by column)."""
        idx = sorted(coeffs)
        self._h.addRow(float(lo), float(hi), len(idx), np.array(idx, dtype=np.int32),
                       np.array([coeffs[j] for j in idx], dtype=np.float64))
        self._rows += 1

    def run(self) -> Solution:
        """Re-solve (warm start) and return the solution; RuntimeError if HiGHS neither solves nor
        proves infeasibility.
        """
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
