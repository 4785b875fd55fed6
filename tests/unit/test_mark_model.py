"""Rule 8 (ballot_scan/mark_model.py): the calibrated model may only overturn weak verdicts,
only as far as its guards allow, and the shipped model matches the reader's features."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ballot_scan.mark_model import CLASSES, FEATURES, MODEL_PATH, MarkModel, feature_vector, load_model, refine
from ballot_scan.marks import BoxScore
from ballot_scan.settings import ScanSettings

ON = ScanSettings(mark_model=True)
BASE = dict(project_id="P", score=0.0, faint=0.05, strike=0.0, outline=0.9, dx_mm=0, dy_mm=0, span_mm=1.0,
            area_mm2=0.3, contrast=0.15, pieces=1, outline_dark=0.3)


def _model(on: str) -> MarkModel:
    """A hand-made model that always answers ``on`` with probability ~1 (weights on the bias only)."""
    bias = [20.0 if c == on else 0.0 for c in CLASSES]
    return MarkModel({"features": list(FEATURES), "classes": list(CLASSES), "mean": [0.0] * len(FEATURES),
                      "scale": [1.0] * len(FEATURES), "weights": [[0.0] * len(FEATURES)] * len(CLASSES),
                      "bias": bias, "thresholds": {"empty": 0.9, "vote": 0.9}})


def test_a_smudge_on_textured_paper_becomes_empty_but_not_on_clean_paper() -> None:
    weak = ("ambiguous", "small_mark")
    smudge = BoxScore(**BASE, noise=0.09, rshade=0.1)  # type: ignore[arg-type]
    assert refine(smudge, weak, ON, _model("empty")) == ("empty", None)
    clean = BoxScore(**BASE, noise=0.03)  # type: ignore[arg-type]
    assert refine(clean, weak, ON, _model("empty")) == weak  # a light mark on clean paper stays
    beside = BoxScore(**BASE, noise=0.09, ring_line_mm2=0.8)  # type: ignore[arg-type]
    assert refine(beside, weak, ON, _model("empty")) == weak  # a pen line beside the box stays
    assert refine(smudge, weak, ScanSettings(), _model("empty")) == weak  # off by default


def test_the_model_decides_only_above_its_thresholds() -> None:
    weak = ("ambiguous", "marginal_mark")
    b = BoxScore(**BASE, noise=0.09)  # type: ignore[arg-type]
    assert refine(b, weak, ON, _model("vote")) == ("vote", None)
    assert refine(b, weak, ON, _model("ambiguous")) == weak


def test_strong_verdicts_are_never_given_to_the_model() -> None:
    scratched = BoxScore(**{**BASE, "score": 0.9, "span_mm": 14.0, "area_mm2": 50.0,  # type: ignore[arg-type]
                            "sectors": ("TL", "T", "TR", "L", "R", "B")}, noise=0.2)
    assert scratched.classify(ON) == ("ambiguous", "scratched_out_mark")


def test_the_shipped_model_matches_the_reader_and_was_trained_on_calibration_decks() -> None:
    m = load_model()
    assert m is not None, f"{MODEL_PATH} missing"
    assert m.weights.shape == (len(CLASSES), len(FEATURES))
    assert feature_vector(BoxScore(**BASE)).shape == (len(FEATURES),)  # type: ignore[arg-type]
    training = m.data["training"]
    assert training["decks"] and all(d["mixture"] == "calibration" for d in training["decks"])
    # on its own training boxes no vote or ambiguous mark was made empty, no ambiguous mark a vote
    f = training["figures"]
    assert f["vote"]["made_empty"] == f["ambiguous"]["made_empty"] == f["ambiguous"]["made_vote"] == 0
    assert f["empty"]["made_vote"] == 0
    p = m.probabilities(np.zeros((2, len(FEATURES))))
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1)


def test_training_refuses_a_judging_deck(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_mark_model",
                                                  Path(__file__).parents[2] / "benchmarks" / "train_mark_model.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    (tmp_path / "expected.json").write_text(json.dumps({"mixture": "judging", "ballots": []}))
    with pytest.raises(SystemExit, match="calibration decks only"):
        mod.deck_boxes(tmp_path)
