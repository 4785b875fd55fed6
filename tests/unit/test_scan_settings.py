"""ScanSettings: one object for every reader threshold, overridable, validated, recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from ballot_scan.settings import ScanSettings, load_settings, parse_assignments


def test_overrides_are_converted_to_the_field_types() -> None:
    s = ScanSettings().with_overrides({"mark_min_span_mm": "2.5", "max_pages_per_file": "12", "ocr": "false",
                                       "qr_binarizers": "GlobalHistogram,LocalAverage"})
    assert s.mark_min_span_mm == 2.5 and s.max_pages_per_file == 12 and s.ocr is False
    assert s.qr_binarizers == ("GlobalHistogram", "LocalAverage")
    assert ScanSettings().mark_min_span_mm == 3.0  # frozen defaults untouched


@pytest.mark.parametrize(("values", "message"), [
    ({"no_such_setting": "1"}, "unknown scan setting 'no_such_setting'"),
    ({"ink_level": "dark"}, "ink_level: 'dark' is not a float"),
    ({"max_pages_per_file": "2.5"}, "max_pages_per_file"),
    ({"ink_level": "0.9"}, "ink_level < stroke_level"),
    ({"qr_binarizers": "Magic"}, "qr_binarizers"),
])
def test_bad_overrides_are_refused_with_the_setting_named(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScanSettings().with_overrides(values)


def test_toml_file_then_command_line(tmp_path: Path) -> None:
    f = tmp_path / "scan.toml"
    f.write_text("[scan]\nmark_min_span_mm = 2.6\nfill_share = 0.2\n", encoding="utf-8")
    s = load_settings(f, parse_assignments(["fill_share=0.25"]))
    assert (s.mark_min_span_mm, s.fill_share) == (2.6, 0.25)
    with pytest.raises(ValueError, match="expected name=value"):
        parse_assignments(["fill_share"])


def test_as_dict_lists_every_setting() -> None:
    d = ScanSettings().as_dict()
    assert d["mark_min_span_mm"] == 3.0 and isinstance(d["qr_binarizers"], list)
    assert ScanSettings().with_overrides(d) == ScanSettings()  # the recorded form reloads as is
