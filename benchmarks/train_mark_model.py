"""Train the mark model (rule 8, :mod:`ballot_scan.mark_model`) on CALIBRATION decks.

Run::

    for spec in "mild 150 31" "moderate 300 32" "moderate 200 21" "harsh 200 33" "harsh 150 22"; do
      set -- $spec
      .venv/bin/python -m fixtures.judging_deck --mixture calibration --profile $1 --count $2 \\
          --seed $3 --out /tmp/cal/$1-$3
    done
    .venv/bin/python benchmarks/train_mark_model.py /tmp/cal/* --out ballot_scan/mark_model.json

Refuses any deck whose mixture is not ``calibration`` (judging decks are for the figures
only). Every box of every read page is measured as the scanner measures it
(:func:`ballot_scan.marks.score_boxes` on the page aligned by
:func:`ballot_scan.align.align_page`, the layout of the envelope the truth names); the
boxes the rules call weak (:data:`ballot_scan.marks.WEAK_REASONS`) are the training set,
labelled by the truth: ``empty`` (no mark), ``ambiguous`` (a class the generator marks
ambiguous) or ``vote``. The model is a softmax regression fitted by full-batch gradient
descent (numpy, class-balanced weights, L2 ``--l2``); thresholds: each of ``empty`` and
``vote`` is the highest probability of that class on a box of another class, plus
``--margin`` (so no calibration vote or ambiguous mark becomes empty, and no ambiguous
mark or empty box becomes a vote). The JSON written records the decks (profile, seed,
mixture, pages), the training figures and the date.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from ballot_scan.align import AlignmentError, align_page  # noqa: E402
from ballot_scan.layout import MM_PER_INCH, all_page_layouts  # noqa: E402
from ballot_scan.mark_model import CLASSES, FEATURES, feature_vector  # noqa: E402
from ballot_scan.marks import AMBIGUOUS, WEAK_REASONS, paper_profile, score_boxes  # noqa: E402
from ballot_scan.read import list_tasks, load_page  # noqa: E402
from ballot_scan.settings import DEFAULT_SETTINGS  # noqa: E402
from engine.formats.election_definition import load_election  # noqa: E402


def deck_boxes(deck: Path) -> tuple[list[np.ndarray], list[int], list[str], dict]:
    """(feature rows, labels, tags) of the weak boxes of one calibration deck, and its description."""
    exp = json.loads((deck / "expected.json").read_text(encoding="utf-8"))
    if exp.get("mixture") != "calibration":
        raise SystemExit(f"{deck}: mixture {exp.get('mixture')!r}; train on calibration decks only")
    election = load_election(Path(exp.get("fixture") or deck / "fixture") / "election.toml")
    layouts = all_page_layouts(election)
    truth = {b["image"]: b for b in exp["ballots"]}
    k = DEFAULT_SETTINGS.work_dpi / MM_PER_INCH
    xs: list[np.ndarray] = []
    ys: list[int] = []
    tags: list[str] = []
    for task in list_tasks([deck]):
        b = truth.get(task.name)
        if b is None:
            continue
        img, _ = load_page(task)
        if img is None:
            continue
        try:
            al = align_page(img)
        except AlignmentError:
            continue
        pl = layouts.get(f"{b['envelope_code']}-1")
        if pl is None:
            continue
        classes = {m["project_id"]: m for m in b["marks"] if m.get("project_id")}
        prof = paper_profile(img, al.dpi / MM_PER_INCH)
        for s in score_boxes(img, al.matrix, pl.boxes, k, DEFAULT_SETTINGS, prof):
            v = s.rule_verdict()
            if v[0] != AMBIGUOUS or v[1] not in WEAK_REASONS:
                continue
            m = classes.get(s.project_id)
            label = 0 if m is None else (1 if m["role"] == "ambiguous" else 2)
            xs.append(feature_vector(s))
            ys.append(label)
            tags.append(f"{deck.name}/{task.name}:{s.project_id}:{m['style'] if m else '-'}:{v[1]}")
    desc = {"deck": deck.name, "profile": exp.get("profile"), "mixture": exp.get("mixture"),
            "seed": exp.get("seed"), "pages": len(exp["ballots"])}
    return xs, ys, tags, desc


def fit(x: np.ndarray, y: np.ndarray, l2: float, weight: float = 1.0, steps: int = 4000,
        lr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Softmax regression on standardised ``x``: (weights (classes, features), bias).

    Class-balanced, and the ambiguous and vote samples weigh ``weight`` times more."""
    n, d = x.shape
    c = len(CLASSES)
    onehot = np.eye(c)[y]
    counts = np.maximum(np.bincount(y, minlength=c), 1)
    sw = (n / (c * counts))[y][:, None] * np.where(y == 0, 1.0, weight)[:, None]
    w, b = np.zeros((c, d)), np.zeros(c)
    for _ in range(steps):
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * sw / n
        w -= lr * (g.T @ x + l2 * w)
        b -= lr * g.sum(axis=0)
    return w, b


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("decks", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("ballot_scan/mark_model.json"))
    ap.add_argument("--l2", type=float, default=1e-3)
    ap.add_argument("--margin", type=float, default=0.02)
    ap.add_argument("--weight", type=float, default=10.0,
                    help="extra weight of votes and ambiguous marks (an error on them costs a misread or a miss)")
    ap.add_argument("--cache", type=Path, help="features of the decks saved here (reused when present)")
    ap.add_argument("--validate", type=Path, nargs="*", default=[],
                    help="held-out calibration decks: the fitted model's figures on them (not trained on)")
    args = ap.parse_args()
    if args.cache and args.cache.exists():
        saved = json.loads(args.cache.read_text(encoding="utf-8"))
        x, y, tags, decks = np.array(saved["x"]), np.array(saved["y"]), saved["tags"], saved["decks"]
    else:
        xs: list[np.ndarray] = []
        ys: list[int] = []
        tags = []
        decks = []
        for deck in args.decks:
            dx, dy, dt, desc = deck_boxes(deck)
            xs += dx
            ys += dy
            tags += dt
            decks.append(desc)
            print(f"{deck}: {len(dx)} weak boxes", file=sys.stderr)
        x, y = np.array(xs), np.array(ys)
        if args.cache:
            args.cache.write_text(json.dumps({"x": x.tolist(), "y": y.tolist(), "tags": tags, "decks": decks}))
    mean, scale = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-6)
    w, b = fit((x - mean) / scale, y, args.l2, args.weight)
    z = ((x - mean) / scale) @ w.T + b
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    t_empty = min(1.0, float(p[y != 0, 0].max()) + args.margin)
    t_vote = min(1.0, float(p[y != 2, 2].max()) + args.margin)
    made_empty = (p[:, 0] >= t_empty)
    made_vote = (p[:, 2] >= t_vote) & ~made_empty
    figures = {cls: {"boxes": int((y == i).sum()), "made_empty": int((made_empty & (y == i)).sum()),
                     "made_vote": int((made_vote & (y == i)).sum())} for i, cls in enumerate(CLASSES)}
    print(json.dumps(figures, indent=1))
    held: dict[str, dict[str, int]] = {}
    for deck in args.validate:
        vx, vy, _, _ = deck_boxes(deck)
        if not vx:
            continue
        xv, yv = np.array(vx), np.array(vy)
        zv = ((xv - mean) / scale) @ w.T + b
        pv = np.exp(zv - zv.max(axis=1, keepdims=True))
        pv /= pv.sum(axis=1, keepdims=True)
        ve, vv = pv[:, 0] >= t_empty, (pv[:, 2] >= t_vote) & (pv[:, 0] < t_empty)
        for i, cls in enumerate(CLASSES):
            h = held.setdefault(cls, {"boxes": 0, "made_empty": 0, "made_vote": 0})
            h["boxes"] += int((yv == i).sum())
            h["made_empty"] += int((ve & (yv == i)).sum())
            h["made_vote"] += int((vv & (yv == i)).sum())
    if held:
        print("held-out calibration decks:", json.dumps(held))
    for i in np.argsort(-p[y != 0, 0])[:5]:
        print("nearest non-empty to the empty threshold:", np.array(tags)[y != 0][i], round(float(p[y != 0, 0][i]), 3))
    model = {
        "model": "softmax regression (ballot_scan/mark_model.py), trained by benchmarks/train_mark_model.py",
        "features": list(FEATURES), "classes": list(CLASSES),
        "mean": mean.round(6).tolist(), "scale": scale.round(6).tolist(),
        "weights": w.round(6).tolist(), "bias": b.round(6).tolist(),
        "thresholds": {"empty": round(t_empty, 4), "vote": round(t_vote, 4)},
        "training": {"decks": decks, "l2": args.l2, "margin": args.margin, "weight": args.weight, "figures": figures,
                     "held_out": {"decks": [d.name for d in args.validate], "figures": held},
                     "date": datetime.date.today().isoformat()},
    }
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
