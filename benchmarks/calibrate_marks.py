"""Calibrate the mark rules on CALIBRATION decks: per-class features and confusion.

Run: ``.venv/bin/python benchmarks/calibrate_marks.py DECK... [--set name=value ...]``
where each DECK was made by ``python -m fixtures.judging_deck --mixture calibration``
(never a judging deck: the script refuses one, judging decks are only for the figures).

Reads every page with :class:`ballot_scan.read.PageReader` (the scanner's own reading,
with the given :class:`~ballot_scan.settings.ScanSettings`), joins each box's measured
features with the deck's truth (``expected.json``: role and style of every mark), and
prints, per mark class, the percentiles of the features the rules use (ink share,
span, stroke area, ring sectors) and how the rules classified the boxes (vote /
ambiguous / empty). This is how the defaults of ``ballot_scan/settings.py`` were chosen:
the vote span and area sit below every vote class's 1st percentile and above the
ambiguous small classes' 99th.

The verdicts printed include rule 11, the calibrated mark model for the weak verdicts
(:mod:`ballot_scan.mark_model`), whose weights ``benchmarks/train_mark_model.py`` fits on
the same kind of decks (``--set mark_model=false`` shows the rules alone).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from ballot_scan.read import PageReader, list_tasks  # noqa: E402
from ballot_scan.settings import load_settings, parse_assignments  # noqa: E402
from engine.formats.election_definition import load_election  # noqa: E402


def box_truth(entry: dict) -> dict[str, str]:
    """project -> class name (vote styles as is, ambiguous ones suffixed ``?``)."""
    out: dict[str, str] = {}
    for m in entry.get("marks", []):
        if m.get("project_id"):
            out[m["project_id"]] = m["style"] + ("?" if m["role"] == "ambiguous" else "")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("decks", nargs="+", type=Path)
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--show", type=int, default=4, help="examples of each wrong verdict to print")
    args = ap.parse_args()
    settings = load_settings(None, parse_assignments(args.sets))
    feats: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    wrong: list[str] = []
    for deck in args.decks:
        exp = json.loads((deck / "expected.json").read_text())
        if exp.get("mixture") != "calibration":
            print(f"{deck}: mixture {exp.get('mixture')!r}; calibrate on calibration decks only", file=sys.stderr)
            return 2
        fixture = Path(exp.get("fixture") or deck / "fixture")
        election = load_election(fixture / "election.toml")
        truth = {b["image"]: b for b in exp["ballots"]}
        reader = PageReader(election, settings)
        tasks = list_tasks([deck], settings)
        for i in range(0, len(tasks), 16):
            for rd in reader.read_batch(tasks[i : i + 16]):
                if rd.fatal or not rd.scores or rd.image not in truth:
                    continue
                t = box_truth(truth[rd.image])
                for pid in rd.scores:
                    cls = t.get(pid, "(empty)")
                    f = rd.features.get(pid, {})
                    num = {k: float(v) for k, v in f.items() if isinstance(v, int | float)}
                    sectors = f.get("sectors", ())
                    feats[cls].append((rd.scores[pid], num.get("span_mm", 0.0), num.get("area_mm2", 0.0),
                                       len(sectors) if isinstance(sectors, tuple | list) else 0,
                                       num.get("contrast", 0.0), num.get("pieces", 0.0)))
                    got = "vote" if pid in rd.votes else (f"?{rd.ambiguous[pid]}" if pid in rd.ambiguous else "empty")
                    verdicts[cls][got] += 1
                    want_vote = not cls.endswith("?") and cls != "(empty)"
                    bad = (got == "vote") != want_vote or (cls.endswith("?") and not got.startswith("?"))
                    if bad:
                        wrong.append(f"{cls:16s} {got:22s} {rd.image}:{pid} score={rd.scores[pid]} "
                                     f"faint={rd.faint[pid]} {f}")
    print(f"{'class':16s} {'n':>5s}  ink p1/p50   span p1/p50/p99   area p1/p50/p99  "
          "sectors p50/p99 contrast p1/p50 pieces p50/p99 verdicts")
    for cls in sorted(feats):
        a = np.array(feats[cls])
        p = lambda c, q, a=a: float(np.percentile(a[:, c], q))  # noqa: E731
        print(f"{cls:16s} {len(a):5d}  {p(0, 1):.3f}/{p(0, 50):.3f}  {p(1, 1):5.2f}/{p(1, 50):5.2f}/{p(1, 99):5.2f}  "
              f"{p(2, 1):5.2f}/{p(2, 50):5.2f}/{p(2, 99):5.2f}  {p(3, 50):.0f}/{p(3, 99):.0f}  "
              f"{p(4, 1):.2f}/{p(4, 50):.2f}  {p(5, 50):.0f}/{p(5, 99):.0f}  "
              f"{dict(verdicts[cls].most_common())}")
    by_cls: dict[str, int] = Counter()
    for line in wrong:
        c = line.split()[0]
        by_cls[c] += 1
        if by_cls[c] <= args.show:
            print("WRONG", line)
    print(f"{len(wrong)} boxes read against their class")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
