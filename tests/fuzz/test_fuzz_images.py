"""Bad scan files: each is rejected with its reason, in bounded memory, and the batch goes on.

Zero-byte, truncated (PNG, JPEG), random bytes, a damaged header, a PDF (named .pdf or
.png), a genuine 200-megapixel image, an 84-megapixel one (between our limit and
Pillow's), a forged header claiming 900 megapixels, a ballot of another election — in
one folder with a real ballot page. Plus hypothesis mutations of small valid images: the
reader never raises. Memory: reading the huge files in a fresh process must stay far
below what decoding them would need.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from ballot_scan.decide import REASONS
from ballot_scan.image_guard import IMAGE_REASONS, MAX_PIXELS, ImageRejected, check_image
from ballot_scan.layout import envelope_layout
from ballot_scan.payload import PagePayload
from ballot_scan.pipeline import scan_paths
from ballot_scan.read import PageReader, list_tasks
from ballot_scan.render import read_token_register, render_page
from engine.formats.election_definition import load_election
from engine.model.tokens import issue_token
from engine.storage.keyfiles import load_public_key
from engine.storage.store import Store

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "fixtures" / "samples" / "tiny_election.toml"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width x height`` with a few bytes of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(
        b"IEND", b"")


EXPECTED = {
    "empty.png": "image_empty",
    "truncated.png": "image_truncated",
    "truncated.jpg": "image_truncated",
    "random.png": "image_unknown_format",
    "damaged-header.png": "image_corrupt",
    "document.pdf": "pdf_unreadable",
    "pdf-named.png": "pdf_unreadable",
    "huge-200mpx.png": "image_too_large",
    "big-84mpx.png": "image_too_large",
    "forged-900mpx.png": "image_too_large",
}


@pytest.fixture(scope="module")
def scan_folder(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bad-scans")
    election = load_election(small_paris / "election.toml")
    token = read_token_register(small_paris / "paper_tokens.csv")[0]
    pl = envelope_layout(election, "ar11")[0]
    page = render_page(election, pl, PagePayload(pl.envelope_code, 1, 1, "0" * 16, token.token), token.short_code, 150)
    buf = io.BytesIO()
    page.save(buf, "PNG")
    good_png = buf.getvalue()
    (d / "good-ballot.png").write_bytes(good_png)
    buf = io.BytesIO()
    page.save(buf, "JPEG", quality=70)
    good_jpg = buf.getvalue()

    (d / "empty.png").write_bytes(b"")
    (d / "truncated.png").write_bytes(good_png[: len(good_png) // 2])
    (d / "truncated.jpg").write_bytes(good_jpg[: len(good_jpg) // 2])
    (d / "random.png").write_bytes(np.random.default_rng(1).bytes(5000))
    (d / "damaged-header.png").write_bytes(good_png[:12] + b"\x00" * 40 + good_png[52:])
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    (d / "document.pdf").write_bytes(pdf)
    (d / "pdf-named.png").write_bytes(pdf)
    Image.new("1", (16_000, 12_500), 1).save(d / "huge-200mpx.png")  # genuine, compresses well
    Image.new("1", (12_000, 7_000), 1).save(d / "big-84mpx.png")
    (d / "forged-900mpx.png").write_bytes(png_header_only(30_000, 30_000))

    # a real ballot of another election (tiny-2026), with a valid token of that election
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    tiny = load_election(TINY)
    tpl = envelope_layout(tiny, "north")[0]
    tiny_token = issue_token(Ed25519PrivateKey.generate(), tiny.id)
    render_page(tiny, tpl, PagePayload(tpl.envelope_code, 1, 1, "1" * 16, tiny_token), None, 150).save(
        d / "other-election.png")
    return d


def reads_by_name(folder: Path, names: list[str]) -> dict[str, tuple[str | None, str]]:
    reader = PageReader(load_election(TINY), ocr=False)
    out = reader.read_batch(list_tasks([folder / n for n in names]))
    return {r.image: (r.fatal, r.detail) for r in out}


@pytest.mark.parametrize(("name", "reason"), sorted(EXPECTED.items()))
def test_bad_file_rejected_with_its_reason(scan_folder: Path, name: str, reason: str) -> None:
    fatal, detail = reads_by_name(scan_folder, [name])[name]
    assert fatal == reason
    assert name in detail and reason in REASONS
    if name == "huge-200mpx.png":
        assert "16000 x 12500 pixels = 200 Mpx" in detail


def test_pdf_in_a_scan_folder_is_reported_not_silently_skipped(scan_folder: Path) -> None:
    names = {t.name for t in list_tasks([scan_folder])}
    assert "document.pdf" in names


def test_batch_with_every_bad_file_goes_on_and_loses_nothing(
    scan_folder: Path, small_paris: Path, tmp_path: Path
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'scan.sqlite'}")
    election = load_election(small_paris / "election.toml")
    summary = scan_paths(store, election, load_public_key(small_paris / "keys"), [scan_folder], workers=1)
    files = sorted(p.name for p in scan_folder.iterdir())
    assert summary.pages == len(files)  # every file accounted for
    logged = {r.source_name: r.reason for r in store.iter_rejections()}
    for name, reason in EXPECTED.items():
        assert logged.get(name) == reason, name
    assert logged["other-election.png"] in ("foreign_ballot", "token_foreign_election")
    assert "good-ballot.png" not in logged  # the real ballot went on (accepted or review)
    assert summary.accepted + summary.needs_review >= 1
    store.close()


def test_huge_images_are_refused_in_bounded_memory(scan_folder: Path) -> None:
    """A fresh process reads the 200, 84 and 900 Mpx files: peak memory stays far below
    one decoded copy of the 200 Mpx image (200 MB at 8 bits per pixel)."""
    code = (
        "import json, resource, sys\n"
        "from pathlib import Path\n"
        "from ballot_scan.read import PageReader, list_tasks\n"
        "from engine.formats.election_definition import load_election\n"
        "r = PageReader(load_election(sys.argv[1]), ocr=False)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "out = r.read_batch(list_tasks([Path(p) for p in sys.argv[2:]]))\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'reasons': [x.fatal for x in out], 'grew_kb': after - before}))\n"
    )
    files = [str(scan_folder / n) for n in ("huge-200mpx.png", "big-84mpx.png", "forged-900mpx.png")]
    res = subprocess.run([sys.executable, "-c", code, str(TINY), *files], capture_output=True, text=True,
                         cwd=REPO, timeout=300, check=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["reasons"] == ["image_too_large"] * 3
    assert out["grew_kb"] < 50_000, out  # < 50 MB; decoding would need >= 200 MB


def test_guard_limit_is_a_real_sheet_size() -> None:
    """An A3 sheet at 600 dpi passes the pixel limit; the limit is not set absurdly low."""
    assert MAX_PIXELS >= 7016 * 9921
    check_image(png_header_only(7016, 9921), "a3-600dpi.png")
    with pytest.raises(ImageRejected) as err:
        check_image(png_header_only(9000, 9000), "x.png")
    assert err.value.reason == "image_too_large"


def _small_images() -> dict[str, bytes]:
    img = Image.fromarray((np.arange(120 * 90, dtype=np.uint32).reshape(120, 90) % 251).astype(np.uint8))
    out = {}
    for fmt, suffix in (("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif")):
        buf = io.BytesIO()
        img.save(buf, fmt)
        out[suffix] = buf.getvalue()
    return out


SMALL = _small_images()


# Pillow warns about the corrupt TIFF/EXIF data these mutations make: expected here
@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(suffix=st.sampled_from(sorted(SMALL)), data=st.data())
@example(suffix=".tif", data=None)
def test_mutated_images_never_crash_the_reader(
    tmp_path_factory: pytest.TempPathFactory, suffix: str, data: st.DataObject | None
) -> None:
    raw = bytearray(SMALL[suffix])
    if data is not None:
        for _ in range(data.draw(st.integers(1, 6))):
            op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
            pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
            if op == "flip" and raw:
                raw[pos] ^= 1 << data.draw(st.integers(0, 7))
            elif op == "cut":
                del raw[pos : pos + data.draw(st.integers(1, 400))]
            else:
                raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=40))
    else:
        raw = raw[: len(raw) // 3]  # a TIFF cut short
    path = tmp_path_factory.mktemp("mut") / f"page{suffix}"
    path.write_bytes(bytes(raw))
    reads = PageReader(load_election(TINY), ocr=False).read_batch(list_tasks([path]))
    assert reads
    for r in reads:
        assert r.fatal is None or r.fatal in REASONS


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", b"\xff\xd8\xff",
                            b"II*\x00", b"MM\x00*", b"%PDF-", b""]),
    body=st.binary(max_size=300),
)
@example(prefix=b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", body=b"\x00\x01")
def test_guard_raises_only_its_own_rejection(prefix: bytes, body: bytes) -> None:
    try:
        check_image(prefix + body, "fuzz.img")
    except ImageRejected as exc:
        assert exc.reason in IMAGE_REASONS and exc.detail.startswith("fuzz.img: ")
