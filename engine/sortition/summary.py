"""What a sortition record says, in short: seed, hashes, quotas with the panel's counts, the
panel and the spread of selection probabilities.

:func:`record_summary` reads the files of a record (name -> bytes, as
:func:`engine.sortition.record.verify_record` takes them) and does **not** verify them:
call ``verify_record`` for that (``pbcount serve --sortition`` shows both, and never a
summary as if valid when verification failed). Pure: no I/O.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

from engine.errors import SortitionInputError
from engine.sortition.pool import parse_features
from engine.sortition.record import pool_from_record


@dataclass(frozen=True)
class QuotaCount:
    """One quota of features.csv and how many members of panel.csv have ``feature`` = ``value``."""

    feature: str
    value: str
    min: int
    max: int
    panel_count: int

    @property
    def met(self) -> bool:
        """``min <= panel_count <= max``."""
        return self.min <= self.panel_count <= self.max


@dataclass(frozen=True)
class ProbabilitySummary:
    """Smallest, median and largest selection probability over the whole pool (probabilities.csv,
    exact fractions; the median of an even count is the mean of the two middle values)."""

    min: float
    median: float
    max: float
    exact: bool


@dataclass(frozen=True)
class RecordSummary:
    """The facts of a record a reader wants first (see the module docstring)."""

    method: str
    algorithm: str
    size: int
    seed: str
    seed_derivation: str
    pool_size: int
    pool_sha256: str
    features_sha256: str
    quotas: tuple[QuotaCount, ...]
    panel: tuple[str, ...]
    probabilities: ProbabilitySummary
    quotas_not_met: tuple[str, ...] = ()
    on_no_panel: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (quotas with ``met``)."""
        doc = asdict(self)
        doc["quotas"] = [{**asdict(q), "met": q.met} for q in self.quotas]
        doc["panel"] = list(self.panel)
        doc["quotas_not_met"] = list(self.quotas_not_met)
        doc["on_no_panel"] = list(self.on_no_panel)
        return doc


def _median(values: list[Fraction]) -> Fraction:
    s = sorted(values)
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def record_summary(files: Mapping[str, bytes]) -> RecordSummary:
    """The summary of a record's files (unverified: see the module docstring).

    Raises SortitionInputError naming the file when one is missing or unreadable, or when
    panel.csv names someone who is not in pool.csv. O(pool + panel × features).
    """
    try:
        rec = json.loads(files["record.json"])
        features = parse_features(files["features.csv"].decode(), "features.csv")
        pool = pool_from_record(files["pool.csv"].decode(), features)
        panel_rows = list(csv.reader(io.StringIO(files["panel.csv"].decode())))
        prob_rows = list(csv.DictReader(io.StringIO(files["probabilities.csv"].decode())))
        probs = [Fraction(int(r["numerator"]), int(r["denominator"])) for r in prob_rows]
    except KeyError as exc:
        raise SortitionInputError(f"the record has no {exc.args[0]}") from None
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise SortitionInputError(f"the record cannot be read: {exc}") from None
    if not panel_rows or panel_rows[0] != ["id"]:
        raise SortitionInputError("panel.csv: the header must be 'id'")
    panel = tuple(r[0] for r in panel_rows[1:] if r)
    index = {pid: i for i, pid in enumerate(pool.ids)}
    outsiders = [pid for pid in panel if pid not in index]
    if outsiders:
        raise SortitionInputError(f"panel.csv: {', '.join(outsiders)} not in pool.csv")
    if not probs:
        raise SortitionInputError("probabilities.csv: no rows")
    quotas = tuple(
        QuotaCount(q.feature, q.value, q.min, q.max,
                   sum(1 for pid in panel if pool.value(index[pid], q.feature) == q.value))
        for q in features.quotas)
    return RecordSummary(
        method=str(rec.get("method", "")), algorithm=str(rec.get("algorithm", "")), size=int(rec.get("size", 0)),
        seed=str(rec.get("seed", "")), seed_derivation=str(rec.get("seed_derivation", "")),
        pool_size=len(pool.ids), pool_sha256=str(rec.get("pool_sha256", "")),
        features_sha256=str(rec.get("features_sha256", "")), quotas=quotas, panel=panel,
        probabilities=ProbabilitySummary(float(min(probs)), float(_median(probs)), float(max(probs)),
                                         bool(rec.get("probabilities_exact", False))),
        quotas_not_met=tuple(str(x) for x in rec.get("quotas_not_met", [])),
        on_no_panel=tuple(str(x) for x in rec.get("on_no_panel", [])))
