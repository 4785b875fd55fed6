"""Id maps between pbcount and the platforms cities run (Decidim, Consul Democracy).

A platform numbers its projects (Decidim project ids, Consul investment ids) while a
pbcount election names them (``AR11-003``). A *project map* is a CSV file with the columns
``project_id`` (pbcount) and ``platform_id`` (Decidim / Consul); ``,`` or ``;`` separated,
UTF-8 with or without BOM, other columns ignored. Without a map, ids are taken as equal
(an election imported from a Decidim export keeps Decidim's ids). See docs/platforms.md.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import PlatformFileError
from engine.model.election import Election


def read_csv_rows(text: str, source: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """``(line, row)`` of a small CSV file whose header has ``required`` columns; the
    separator (``,`` or ``;``) is the one of the header line. O(size)."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise PlatformFileError(source, 1, f"needs the columns {', '.join(required)}; "
                                f"missing {', '.join(missing)} (header: {';'.join(header) or 'empty'})")
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}))
    except csv.Error as exc:
        raise PlatformFileError(source, reader.line_num, f"unreadable line: {exc}") from None
    return rows


@dataclass(frozen=True)
class ProjectMap:
    """Both directions of a project map: pbcount id <-> platform id."""

    to_platform: Mapping[str, str]
    to_project: Mapping[str, str]

    @classmethod
    def identity(cls, election: Election) -> ProjectMap:
        """Every project under its own id."""
        ids = {str(p.id): str(p.id) for p in election.projects}
        return cls(ids, ids)

    def platform_id(self, project_id: str) -> str:
        """The platform's id of a pbcount project (its own id when unmapped)."""
        return self.to_platform.get(project_id, project_id)


def read_project_map(text: str, source: str, election: Election) -> ProjectMap:
    """Read a project map; every pbcount id must be a project of ``election`` and no id may
    appear twice (errors name the line). Projects left out keep their own id."""
    to_platform: dict[str, str] = {}
    to_project: dict[str, str] = {}
    for line, row in read_csv_rows(text, source, ("project_id", "platform_id")):
        pid, ext = row["project_id"], row["platform_id"]
        if not pid and not ext:
            continue
        if election.project(pid) is None:
            raise PlatformFileError(source, line, f"project {pid!r} is not a project of election {election.id!r}")
        if not ext:
            raise PlatformFileError(source, line, f"project {pid!r} has an empty platform_id")
        if pid in to_platform:
            raise PlatformFileError(source, line, f"project {pid!r} is mapped twice")
        if ext in to_project:
            raise PlatformFileError(source, line, f"platform id {ext!r} is mapped twice "
                                    f"({to_project[ext]!r} and {pid!r})")
        to_platform[pid], to_project[ext] = ext, pid
    for p in election.projects:  # unmapped projects keep their own id, unless another one took it
        if p.id not in to_platform and p.id not in to_project:
            to_platform[p.id] = to_project[p.id] = p.id
    return ProjectMap(to_platform, to_project)
