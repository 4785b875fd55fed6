"""Rule 8 of the mark reader: a small calibrated model for the weak verdicts.

The rules of :mod:`ballot_scan.marks` send every light, short or shaded box to review
(``small_mark``, ``marginal_mark``, ``faint_mark``). On real scans most of those are not
marks at all but the paper's own damage (a dirty drum's or roller's smudge, brightness
texture: soft grey blots), and some are thin votes the rules could not be sure of. The
model weighs the box's features together and may overturn the verdict, in two ways only:

* ``P(empty) >= thresholds["empty"]`` -> ``empty`` (smudge, texture: the paper beside
  the box is as dark and as textured as the "mark", its core is light and soft-edged),
  unless a sharp pen line lies in the ring around the box (``ring_line_mm2`` at least
  the setting of that name: a tick whose vertex is outside the box, its arm barely in),
  and only when the paper beside the box is textured too (``noise >= smudge_min_noise``:
  a light mark on clean paper is not a smudge);
* ``P(vote) >= thresholds["vote"]`` -> ``vote`` (a clear thin stroke);
* otherwise the rule's ambiguous verdict stands (a person looks).

Model: multinomial logistic regression (softmax) over standardised features
(:data:`FEATURES`, derived from :class:`~ballot_scan.marks.BoxScore` by
:func:`feature_vector`), classes ``empty``, ``ambiguous``, ``vote``. Its weights live in
``ballot_scan/mark_model.json``, written by ``benchmarks/train_mark_model.py`` from
calibration decks only (the file records the decks, seeds, mixture and the figures on
them). Each threshold is set above the highest probability that class got on a
calibration box of another class (plus a margin), so on calibration decks no
ambiguous-class mark or vote is made empty and no ambiguous mark or empty box is made a
vote. **Off by default** (``ScanSettings.mark_model``; on: ``--set mark_model=true``): on
the judging decks it removed a fifth of the flagged empty boxes but changed no page's
outcome, and on a drum-smudged page it made two 2B-pencil edge ticks and a pencil dot
empty (see ``docs/paper-ballots.md``, round 3), so it stays an opt-in until its features
tell pencil from smudge.

Complexity: O(features x classes) per weak box.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ballot_scan.settings import DEFAULT_SETTINGS, ScanSettings

if TYPE_CHECKING:
    from ballot_scan.marks import BoxScore

MODEL_PATH = Path(__file__).with_name("mark_model.json")
CLASSES = ("empty", "ambiguous", "vote")
FEATURES = ("score", "faint", "shade", "span_mm", "log_area", "contrast", "pieces", "centre", "outline_dark",
            "depth", "noise", "rshade", "istd", "ihat", "gmax", "depth_vs_outline", "ihat_vs_noise",
            "sectors", "around", "depth_excess", "ihat_excess", "noise_vs_page", "page_depth")


def feature_vector(b: BoxScore) -> np.ndarray:
    """The model's inputs for one box, in :data:`FEATURES` order (all scale-free)."""
    return np.array([
        b.score, b.faint, b.shade, b.span_mm, math.log1p(b.area_mm2), b.contrast, min(b.pieces, 12), b.centre,
        b.outline_dark, b.depth, b.noise, b.rshade, b.istd, b.ihat, b.gmax,
        b.depth / (b.outline_dark + 0.05), b.ihat / (b.noise + 0.02), len(b.sectors), len(b.around),
        b.depth - b.page_depth, b.ihat - b.page_ihat, b.noise / (b.page_noise + 0.02), b.page_depth,
    ], dtype=np.float64)


class MarkModel:
    """Softmax regression loaded from the JSON data file (see the module docstring)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if tuple(data["features"]) != FEATURES or tuple(data["classes"]) != CLASSES:
            raise ValueError("mark model: features or classes differ from this reader's; retrain it")
        self.mean = np.array(data["mean"], dtype=np.float64)
        self.scale = np.array(data["scale"], dtype=np.float64)
        self.weights = np.array(data["weights"], dtype=np.float64)  # (classes, features)
        self.bias = np.array(data["bias"], dtype=np.float64)
        self.thresholds: dict[str, float] = {k: float(v) for k, v in data["thresholds"].items()}
        self.data = data

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for feature rows ``x`` ((n, features) or (features,))."""
        z = ((x - self.mean) / self.scale) @ self.weights.T + self.bias
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=-1, keepdims=True))


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> MarkModel | None:
    """The model of ``path`` (cached), or ``None`` when the file is absent."""
    if not path.exists():
        return None
    return MarkModel(json.loads(path.read_text(encoding="utf-8")))


def refine(b: BoxScore, verdict: tuple[str, str | None], settings: ScanSettings = DEFAULT_SETTINGS,
           model: MarkModel | None = None) -> tuple[str, str | None]:
    """Rule 8: the weak rule ``verdict`` of box ``b`` kept, or made ``empty`` / ``vote``."""
    m = model or load_model()
    if m is None or not settings.mark_model:
        return verdict
    p = m.probabilities(feature_vector(b))
    smudged = b.noise >= settings.smudge_min_noise  # the paper beside the box is textured too
    if p[0] >= m.thresholds["empty"] and smudged and b.ring_line_mm2 < settings.ring_line_mm2:
        return "empty", None
    if p[2] >= m.thresholds["vote"]:
        return "vote", None
    return verdict
