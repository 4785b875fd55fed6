"""``results.xlsx``: one worksheet per results CSV (openpyxl), same rows and columns.

Cells that are integers or decimal numbers in the CSV become numbers in the sheet (so a
spreadsheet can sum and pivot them); everything else stays text. The header row is bold
and frozen. Pure apart from the in-memory workbook: CSV texts in, bytes out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping

# no leading zeros: an id such as "007" stays text
_INT = re.compile(r"-?(0|[1-9]\d{0,14})")
_DEC = re.compile(r"-?(0|[1-9]\d{0,14})\.\d+")


def _cell(value: str) -> str | int | float:
    if _INT.fullmatch(value):
        return int(value)
    if _DEC.fullmatch(value):
        return float(value)
    return value


def results_xlsx(csvs: Mapping[str, str]) -> bytes:
    """A workbook with one sheet per ``{file name: CSV text}`` (sheet = name without .csv)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, text in csvs.items():
        ws = wb.create_sheet(title=name.removesuffix(".csv")[:31])
        for i, row in enumerate(csv.reader(io.StringIO(text))):
            ws.append(row if i == 0 else [_cell(v) for v in row])
        for c in ws[1]:
            c.font = Font(bold=True)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
