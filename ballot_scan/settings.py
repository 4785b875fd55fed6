"""Every threshold and limit of the paper-ballot reader, in one frozen object.

:class:`ScanSettings` holds the defaults (this file is the only place they are written);
the modules of :mod:`ballot_scan` take a ``ScanSettings`` argument instead of module
constants. It can be overridden

* from the CLI: ``pbcount scan --set mark_min_span_mm=2.8 --settings scan.toml``;
* from the API: ``POST /v1/scans?set=name=value`` (operator role);
* in code: ``ScanSettings().with_overrides({"name": "value"})`` or ``replace(...)``;

and it is recorded with every run: in the ``paper_scanned`` audit entry and in the scan
report's summary (:meth:`ScanSettings.as_dict`), so a count can be redone with the same
reader. Values are validated when the object is built (:meth:`ScanSettings.__post_init__`).

Darkness conventions (see ``docs/paper-ballots.md``): every level is a share of the
*local paper level* ``P`` (the 90th percentile of the patch around what is measured),
so grey or tinted paper and lighting gradients do not read as ink.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

QR_BINARIZERS = ("LocalAverage", "GlobalHistogram", "FixedThreshold", "BoolCast")


@dataclass(frozen=True)
class ScanSettings:
    """Thresholds and limits of the reader (defaults are the project's calibrated values)."""

    # ---- resolution
    work_dpi: float = 200.0  # pages are resampled at this resolution for every measurement
    pdf_dpi: float = 200.0  # PDF pages are rendered at this resolution
    min_dpi: float = 100.0
    max_dpi: float = 1200.0
    # ---- file limits (image_guard)
    max_pixels: int = 80_000_000  # an A3 sheet at 600 dpi is 70 Mpx
    max_pages_per_file: int = 10_000  # multi-page TIFF / PDF
    # ---- alignment (align)
    max_rotation_deg: float = 5.0
    max_skew_deg: float = 1.0
    max_aspect_error: float = 0.03
    max_residual_mm: float = 0.8
    orientation_dark: float = 0.45  # bar darkness relative to the local paper: printed bar
    orientation_light: float = 0.2  # ... and the blank spot opposite it
    orientation_min_bar: float = 0.3  # inconclusive at the fixed place: the bar searched (folds) ...
    orientation_ratio: float = 2.0  # ... is at least this dark and this many times darker than the spot
    # ---- QR (qr)
    qr_margin_mm: float = 3.0
    qr_binarizers: tuple[str, ...] = QR_BINARIZERS  # tried in order until one decodes
    qr_retry_scale: float = 1.5  # a code not read: tried again resampled at this x work_dpi (1: no retry)
    # ---- printed page code (printed_code)
    code_min_score: float = 0.7
    code_min_margin: float = 0.02
    # ---- mark boxes (marks)
    ink_level: float = 0.6  # pixel darker than ink_level x P: ink
    stroke_level: float = 0.8  # darker than this x P *and* a line (contrast below): a stroke
    faint_level: float = 0.85  # darker than this x P and a line (faint_contrast): faint
    stroke_contrast: float = 0.1  # black top-hat (darker than the closing around) / P: a line
    faint_contrast: float = 0.06  # ... for a faint line
    contrast_kernel_mm: float = 1.2  # the closing's width: wider than a pencil line, narrower than a blot
    shade_share: float = 0.5  # interior share darker than faint_level x P (lines or not): a light fill
    interior_inset_mm: float = 1.0  # interior = box shrunk by this, clear of the outline
    search_mm: float = 1.0  # the outline is searched within this distance of its place
    min_outline_share: float = 0.35  # a page's boxes: median share of their outline that is ink
    box_outline_share: float = 0.3  # one box below this: not found where it should be (review)
    located_outline_share: float = 0.4  # a box's outline below this share of ink ...
    located_outline_dark: float = 0.1  # ... and lighter than this (vs P), with ink inside: not found
    ring_inner_mm: float = 1.0  # the ring around the box starts this far outside its edge
    ring_outer_mm: float = 2.3  # ... and ends here (the next row's box is 2.5 mm away)
    ring_side_mm: float = 3.2  # left and right, the window reaches this far (the text starts at 4 mm)
    circle_gap_mm: float = 0.3  # a circle's ink is looked for beyond this distance from the box
    min_component_mm2: float = 0.06  # ink specks smaller than this are noise (pieces smaller
    # than marginal_area_mm2 count as pieces but not in the mark's span)
    fill_share: float = 0.15  # interior ink share counted as a vote whatever its span
    mark_min_span_mm: float = 3.0  # a vote's extent (bbox diagonal) is at least this
    mark_min_area_mm2: float = 1.0  # ... its strokes cover at least this much
    mark_min_contrast: float = 0.15  # ... they are lines (median top-hat / P), not a blot
    max_pieces: int = 6  # ... in few pieces (more: speckle or dirt, sent to review)
    marginal_area_mm2: float = 0.12  # any mark at least this big is a mark (else noise)
    faint_share: float = 0.06  # interior faint share sent to review when no ink is found
    faint_depth_excess: float = 0.1  # no mark found, but the interior's core is this much darker than the
    faint_line_excess: float = 0.07  # page's median box and its line contrast this much higher: faint_mark
    around_shade: float = 0.1  # no mark found, the ring around the box shaded this much ...
    around_noise_excess: float = 0.1  # ... and textured this much beyond the page's boxes: mark_around_box
    # (a light pencil circle; calibration decks seed 41: 2 of 2,970 empty boxes at moderate, 2 of 2,745 harsh)
    dark_core_excess: float = 0.2  # no mark found, but the core this much darker than the page's median box,
    # whatever its line contrast (a tick riding the box edge): dark_interior (calibration decks seed 41:
    # 0 of 2,970 empty boxes at moderate, 1 of 2,746 at harsh reach it; a missed edge cross and a faint stroke do)
    scratch_share: float = 0.3  # dense interior ...
    scratch_sectors: int = 5  # ... with ink in this many of the 8 ring sectors: scratched out
    sector_min_mm2: float = 0.15  # stroke area making a ring sector "inked"
    strike: float = 0.9  # share of the strip right of the box crossed: a struck-through row
    circle_sides: int = 3  # ink on this many of the 4 sides around the box ...
    circle_centre: float = 0.02  # ... and (almost) none in the centre of the box: a circled box
    ring_line_contrast: float = 0.3  # a ring pixel whose line contrast (top-hat / P) exceeds this: pen line
    ring_line_mm2: float = 0.5  # ... that much of it beside an empty-looking box: a mark beside the box (review)
    # rule 8b (a light long mark on a clean page): the page's empty boxes are tight (median absolute
    # deviation of their core depth and line contrast at most clean_page_mad), its paper smooth, the
    # paper beside the box clean, and the mark stands far out of the page's boxes (robust z-scores)
    clean_page_mad: float = 0.0045  # page MAD of depth and of ihat at most this: a clean page
    clean_page_noise: float = 0.06  # page median paper texture (page_noise) at most this
    clean_side_noise: float = 0.015  # the paper beside the box no more textured than the page's + this
    clean_side_shade: float = 0.01  # ... and no more of it smudged (rshade) than this
    clean_max_pieces: int = 5  # the mark in at most this many pieces
    clean_mad_floor: float = 0.004  # the MAD used in the z-scores is at least this (rounded features)
    clean_depth_z: float = 15.0  # core depth at least this many MADs above the page's median box
    clean_line_z: float = 8.0  # ... and line contrast at least this many
    clean_fill_shade: float = 0.3  # no stroke found, but this share of the interior shaded: a light fill
    smudge_min_noise: float = 0.05  # the model calls a mark a smudge only on paper this textured beside the box
    mark_model: bool = False  # rule 11: the calibrated mark model (ballot_scan/mark_model.json) weighs weak
    # marks; off by default: on judging decks it changed no page outcome and made pencil marks on smudged pages empty
    # ---- scanner streaks and bands (marks, page level)
    profile_tolerance: float = 0.04  # paper profile flatter than this: no correction
    streak_depth: float = 0.06  # a column / row this much darker than its neighbours: a streak
    streak_unreadable: float = 0.5  # paper under a box darker than this share of white: review
    # ---- pipeline
    ocr: bool = True

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 0 < self.ink_level < self.stroke_level < self.faint_level < 1:
            problems.append("need 0 < ink_level < stroke_level < faint_level < 1")
        if not 0 < self.orientation_light < self.orientation_dark < 1:
            problems.append("need 0 < orientation_light < orientation_dark < 1")
        if not 0 < self.orientation_min_bar < 1 or self.orientation_ratio <= 1:
            problems.append("need 0 < orientation_min_bar < 1 and orientation_ratio > 1")
        if not 0 < self.min_dpi < self.max_dpi:
            problems.append("need 0 < min_dpi < max_dpi")
        if not self.interior_inset_mm < 3.0:
            problems.append("interior_inset_mm must be below half the 6 mm box")
        if not 0 < self.ring_inner_mm < self.ring_outer_mm:
            problems.append("need 0 < ring_inner_mm < ring_outer_mm")
        if not 0 < self.marginal_area_mm2 <= self.mark_min_area_mm2:
            problems.append("need 0 < marginal_area_mm2 <= mark_min_area_mm2")
        for name in ("fill_share", "faint_share", "scratch_share", "strike", "min_outline_share"):
            if not 0 < getattr(self, name) <= 1:
                problems.append(f"{name} must be in (0, 1]")
        for name in ("stroke_contrast", "faint_contrast", "shade_share", "profile_tolerance", "streak_depth",
                     "streak_unreadable"):
            if not 0 < getattr(self, name) < 1:
                problems.append(f"{name} must be in (0, 1)")
        if not 1 <= self.qr_retry_scale <= 4:
            problems.append("qr_retry_scale must be in [1, 4]")
        if self.contrast_kernel_mm <= 0:
            problems.append("contrast_kernel_mm must be positive")
        if not 1 <= self.scratch_sectors <= 8:
            problems.append("scratch_sectors must be 1..8")
        if self.clean_mad_floor <= 0 or self.clean_max_pieces < 1:
            problems.append("clean_mad_floor and clean_max_pieces must be positive")
        if not 1 <= self.circle_sides <= 4:
            problems.append("circle_sides must be 1..4")
        if self.max_pixels < 1 or self.max_pages_per_file < 1:
            problems.append("max_pixels and max_pages_per_file must be positive")
        bad = [b for b in self.qr_binarizers if b not in QR_BINARIZERS]
        if bad or not self.qr_binarizers:
            problems.append(f"qr_binarizers: choose among {', '.join(QR_BINARIZERS)}")
        if problems:
            raise ValueError("; ".join(problems))

    def as_dict(self) -> dict[str, Any]:
        """Every setting by name (JSON-ready; tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def with_overrides(self, values: Mapping[str, Any]) -> ScanSettings:
        """A copy with ``values`` (name -> value or its text, e.g. from ``--set``) applied.

        Text is converted to the field's type (``"true"``/``"false"`` for booleans, a
        comma-separated list for tuples). Raises :class:`ValueError` naming an unknown
        setting or a value that does not convert or validate.
        """
        types = {f.name: f.type for f in fields(self)}
        defaults = asdict(self)
        changes: dict[str, Any] = {}
        for name, raw in values.items():
            if name not in types:
                raise ValueError(f"unknown scan setting {name!r} (known: {', '.join(sorted(types))})")
            changes[name] = _convert(name, defaults[name], raw)
        return replace(self, **changes)


def _convert(name: str, default: Any, raw: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text in ("true", "1", "yes")
        if isinstance(default, tuple):
            items = raw if isinstance(raw, list | tuple) else [s for s in str(raw).split(",") if s.strip()]
            return tuple(str(s).strip() for s in items)
        if isinstance(default, int):
            if isinstance(raw, float) and not raw.is_integer():
                raise ValueError(raw)
            return int(raw)
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"scan setting {name}: {raw!r} is not a {type(default).__name__}") from None


def parse_assignments(items: list[str]) -> dict[str, str]:
    """``["name=value", ...]`` (CLI ``--set``, API ``set``) -> {name: value}; ValueError if malformed."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--set {item!r}: expected name=value")
        out[name.strip()] = value.strip()
    return out


def load_settings(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> ScanSettings:
    """Defaults, then the ``[scan]`` table (or top level) of TOML file ``path``, then ``overrides``."""
    s = ScanSettings()
    if path is not None:
        with path.open("rb") as f:
            doc = tomllib.load(f)
        table = doc.get("scan", doc)
        if not isinstance(table, dict):
            raise ValueError(f"{path}: [scan] must be a table")
        try:
            s = s.with_overrides(table)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
    return s.with_overrides(overrides or {})


DEFAULT_SETTINGS = ScanSettings()
