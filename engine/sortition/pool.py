"""The pool, the quotas (features) and the checks that explain infeasible quotas.

Input layouts:

* pool CSV: a header with an ``id`` column (pseudonymous), one column per feature named in
  the features file, optionally address columns (household rule); other columns (names,
  e-mails) are ignored and never copied into the record.
* features CSV, the Sortition Foundation's layout: ``feature,value,min,max`` (extra columns
  such as ``min_flex``/``max_flex`` are ignored). Every value a person has must be listed.

Parsing takes text, not files, so the core stays free of I/O. Errors name the file, the
line and the reason (:class:`SortitionInputError`).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from engine.errors import SortitionInputError
from engine.rules.tiebreak import natural_key


@dataclass(frozen=True)
class Quota:
    """One line of the features file: between ``min`` and ``max`` panel members with ``feature`` = ``value``."""

    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True)
class Features:
    """Quotas in file order; ``names`` are the features in order of first appearance."""

    quotas: tuple[Quota, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The feature names, in order of first appearance."""
        return tuple(dict.fromkeys(q.feature for q in self.quotas))

    def values(self, feature: str) -> tuple[str, ...]:
        """The values of ``feature``, in file order."""
        return tuple(q.value for q in self.quotas if q.feature == feature)

    def csv_text(self) -> str:
        """The features file as published in the record (``feature,value,min,max``)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["feature", "value", "min", "max"])
        for q in self.quotas:
            w.writerow([q.feature, q.value, q.min, q.max])
        return out.getvalue()


@dataclass(frozen=True)
class Pool:
    """People sorted by id (natural order): ``ids[i]`` has ``values[i][f]`` for feature ``f``.

    ``household[i]`` is an opaque group number (people sharing all address columns share
    it; numbered by first appearance in id order), or None when no household rule applies.
    """

    ids: tuple[str, ...]
    features: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]
    household: tuple[int, ...] | None = None

    def value(self, i: int, feature: str) -> str:
        """Person ``i``'s value of ``feature``."""
        return self.values[i][self.features.index(feature)]

    def csv_text(self) -> str:
        """The pool as published in the record: id, feature columns, household group."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["id", *self.features, *(["household"] if self.household is not None else [])])
        for i, pid in enumerate(self.ids):
            w.writerow([pid, *self.values[i], *([self.household[i]] if self.household is not None else [])])
        return out.getvalue()

    def sha256(self) -> str:
        """SHA-256 (hex) of :meth:`csv_text`: the pool's identity in the record."""
        return hashlib.sha256(self.csv_text().encode()).hexdigest()


def _rows(text: str, name: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows = list(reader)
    if not rows:
        raise SortitionInputError(f"{name}: empty file")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header):
        raise SortitionInputError(f"{name} line 1: a column name appears twice")
    out: list[tuple[int, dict[str, str]]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise SortitionInputError(f"{name} line {n}: {len(row)} fields, the header has {len(header)}")
        out.append((n, {h: c.strip() for h, c in zip(header, row, strict=True)}))
    return header, out


def parse_features(text: str, name: str = "features.csv") -> Features:
    """Quotas from the Sortition Foundation's ``feature,value,min,max`` layout."""
    header, rows = _rows(text, name)
    missing = [c for c in ("feature", "value", "min", "max") if c not in header]
    if missing:
        raise SortitionInputError(f"{name} line 1: missing column(s) {', '.join(missing)}")
    quotas: list[Quota] = []
    seen: set[tuple[str, str]] = set()
    for n, r in rows:
        f, v = r["feature"], r["value"]
        if not f or not v:
            raise SortitionInputError(f"{name} line {n}: empty feature or value")
        if (f, v) in seen:
            raise SortitionInputError(f"{name} line {n}: {f}={v} listed twice")
        seen.add((f, v))
        try:
            lo, hi = int(r["min"]), int(r["max"])
        except ValueError:
            raise SortitionInputError(f"{name} line {n}: min and max must be whole numbers") from None
        if lo < 0 or hi < lo:
            raise SortitionInputError(f"{name} line {n}: {f}={v} needs 0 <= min <= max (min {lo}, max {hi})")
        quotas.append(Quota(f, v, lo, hi))
    if not quotas:
        raise SortitionInputError(f"{name}: no quotas")
    return Features(tuple(quotas))


def parse_pool(text: str, features: Features, name: str = "pool.csv",
               address_columns: tuple[str, ...] = ()) -> Pool:
    """The pool's people (sorted by id), checked against the features' values."""
    header, rows = _rows(text, name)
    need = ["id", *features.names, *address_columns]
    missing = [c for c in need if c not in header]
    if missing:
        raise SortitionInputError(f"{name} line 1: missing column(s) {', '.join(missing)}")
    allowed = {f: set(features.values(f)) for f in features.names}
    people: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for n, r in rows:
        pid = r["id"]
        if not pid:
            raise SortitionInputError(f"{name} line {n}: empty id")
        if pid in people:
            raise SortitionInputError(f"{name} line {n}: id {pid!r} appears twice")
        vals = tuple(r[f] for f in features.names)
        for f, v in zip(features.names, vals, strict=True):
            if v not in allowed[f]:
                raise SortitionInputError(
                    f"{name} line {n}: {pid} has {f}={v!r}, not a value in the features file "
                    f"({', '.join(features.values(f))})")
        people[pid] = (vals, tuple(r[c].casefold() for c in address_columns))
    ids = sorted(people, key=natural_key)
    household: tuple[int, ...] | None = None
    if address_columns:
        groups: dict[tuple[str, ...], int] = {}
        household = tuple(groups.setdefault(people[p][1], len(groups) + 1) for p in ids)
    return Pool(tuple(ids), features.names, tuple(people[p][0] for p in ids), household)


def precheck(pool: Pool, features: Features, size: int) -> None:
    """Quick, clear reasons why no panel of ``size`` can exist (raises SortitionInputError)."""
    if size < 1:
        raise SortitionInputError(f"panel size must be at least 1 (got {size})")
    if size > len(pool.ids):
        raise SortitionInputError(f"panel size {size} is larger than the pool ({len(pool.ids)} people)")
    if pool.household is not None and size > len(set(pool.household)):
        raise SortitionInputError(
            f"panel size {size} exceeds the number of households ({len(set(pool.household))}): "
            "at most one person per household")
    for f in features.names:
        qs = [q for q in features.quotas if q.feature == f]
        lo, hi = sum(q.min for q in qs), sum(q.max for q in qs)
        if lo > size:
            raise SortitionInputError(f"feature {f}: the minimums add up to {lo}, more than the panel size {size}")
        if hi < size:
            raise SortitionInputError(f"feature {f}: the maximums add up to {hi}, less than the panel size {size}")
        for q in qs:
            have = sum(1 for i in range(len(pool.ids)) if pool.value(i, f) == q.value)
            if have < q.min:
                raise SortitionInputError(
                    f"{f}={q.value}: at least {q.min} wanted but the pool has only {have}")
