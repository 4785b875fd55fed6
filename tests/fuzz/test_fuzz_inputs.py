"""Fuzzing the readers of untrusted input (hypothesis, bounded examples for CI).

Property for each reader: on any input it returns a result or raises its own documented
error naming the location (file, line, key path) — never another exception, never a
crash of the batch. Targets: the e-vote line parser and validation, the token decoder
and short codes, the election definition loader, the pabulib ``.pb`` reader, and the
whole e-vote ingestion (a file of garbage lines is ingested to the end, every line
accounted for in the rejection log).
"""

from __future__ import annotations

import json
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from engine.errors import ElectionDefinitionError, TokenError
from engine.formats.election_definition import election_from_dict, load_election
from engine.formats.evote import parse_evote_line
from engine.formats.pabulib import PabulibError, parse_pabulib, read_pabulib
from engine.model.ballots import REJECTION_REASONS, Ballot, Rejection, SourceRef, Submission, validate_submission
from engine.model.election import Election
from engine.model.receipts import online_receipt_id
from engine.model.tokens import TokenVerifier, issue_token, parse_short_code, short_code
from engine.services.ingest import ingest_evote_file
from engine.storage.store import Store

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "fixtures" / "samples" / "tiny_election.toml"
PABULIB = REPO.parent / "shared" / "pabulib"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ELECTION: Election = load_election(TINY)
VERIFIER = TokenVerifier(KEY.public_key(), ELECTION.id)
VALID_TOKEN = issue_token(KEY, ELECTION.id, bytes(10))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=12,
)
# e-vote-shaped documents with every field possibly wrong
evote_docs = st.fixed_dictionaries(
    {},
    optional={
        "token": st.sampled_from([VALID_TOKEN, VALID_TOKEN[:-3], VALID_TOKEN.lower()]) | json_values,
        "cast_at": st.sampled_from(["2026-05-03T10:00:00Z", "2026-13-45T10:00:00Z", "yesterday"])
        | json_values,
        "selections": st.dictionaries(
            st.sampled_from(["city", "north", "south", "nowhere"]) | st.text(max_size=5),
            st.lists(st.sampled_from(["C1", "C2", "N1", "N2", "S1", "X"]) | st.text(max_size=4), max_size=5)
            | json_values,
            max_size=3,
        )
        | json_values,
    },
)
line_inputs = (
    st.binary(max_size=300)
    | st.text(max_size=300)
    | evote_docs.map(lambda d: json.dumps(d, ensure_ascii=False))
    | json_values.map(json.dumps)
)


def assert_storable(text: str) -> None:
    """What goes into the rejection log must be valid UTF-8 (PostgreSQL refuses otherwise)."""
    text.encode("utf-8")


# ---------------------------------------------------------------- e-vote lines


@FUZZ
@given(raw=line_inputs)
@example(raw=b"[" * 100_000)  # nesting deeper than the JSON decoder's recursion limit
@example(raw=b'{"token": "\\ud800", "cast_at": "\\udfff", "selections": {"\\ud800": ["\\ud800"]}}')
@example(raw=b"\x00\xff\xfe{")
@example(raw='{"token": 1e999999, "cast_at": [], "selections": {}}')
# inputs that once crashed a whole ingestion (issue 13.3) and duplicate keys (13.13)
@example(raw=json.dumps({"token": VALID_TOKEN, "cast_at": "0001-01-01T00:00:00+14:00", "selections": {"city": ["C1"]}}))
@example(raw=json.dumps({"token": VALID_TOKEN, "cast_at": "9999-12-31T23:59:59-14:00", "selections": {"city": ["C1"]}}))
@example(raw='{"token": "x", "cast_at": "y", "selections": {}, "n": ' + "9" * 5000 + "}")
@example(raw=b"\x00pbcount-line-too-long:\xff\xfe\xfd")
@example(raw=b"\x00pbcount-line-too-long:" + b"0" * 64 + b":999999999")
@example(raw='{"token": "a", "token": "b", "cast_at": "2026-05-03T10:00:00Z", "selections": {}}')
@example(raw='{"token": "a", "cast_at": "z", "selections": {"\\ud800": [], "\\ud800": []}}')
def test_evote_line_parser_and_validation_never_raise(raw: str | bytes) -> None:
    src = SourceRef("votes.jsonl", 42)
    parsed = parse_evote_line(raw, src)
    assert isinstance(parsed, Submission | Rejection)
    assert parsed.source == src
    if isinstance(parsed, Rejection):
        assert parsed.reason in REJECTION_REASONS
        assert_storable(parsed.detail)
        return
    result = validate_submission(ELECTION, VERIFIER, parsed)
    assert isinstance(result, Ballot | Rejection)
    if isinstance(result, Rejection):
        assert result.reason in REJECTION_REASONS and result.source == src
        assert_storable(result.detail)
    else:
        assert result.voter_serial and result.selections
        online_receipt_id(b"k" * 32, result.ballot_key)


# ---------------------------------------------------------------- tokens


@FUZZ
@given(text=st.text(max_size=200) | st.binary(max_size=100) | json_values)
@example(text="PB1-" + "0" * 129)
@example(text="pb1-" + "Z" * 129)
def test_token_decoder_raises_only_token_errors(text: Any) -> None:
    try:
        VERIFIER.verify(text)
    except TokenError as exc:
        assert exc.reason in REJECTION_REASONS
        assert str(exc)
    else:
        pytest.fail(f"random input verified as a token: {text!r}")


@FUZZ
@given(pos=st.integers(min_value=4, max_value=len(VALID_TOKEN) - 1), char=st.characters(), data=st.data())
def test_mutated_token_never_verifies_as_another_voter(pos: int, char: str, data: st.DataObject) -> None:
    mutated = VALID_TOKEN[:pos] + char + VALID_TOKEN[pos + 1 :]
    if data.draw(st.booleans()):
        mutated = mutated[: data.draw(st.integers(0, len(mutated)))]
    try:
        token = VERIFIER.verify(mutated)
    except TokenError as exc:
        assert exc.reason in REJECTION_REASONS
    else:  # only a spelling of the same token (case, Crockford aliases) may verify
        assert token.serial == bytes(10)


@FUZZ
@given(code=st.text(max_size=40))
@example(code=short_code(bytes(10)))
def test_short_code_parser_raises_only_token_errors(code: str) -> None:
    try:
        serial = parse_short_code(code)
    except TokenError as exc:
        assert exc.reason == "short_code_invalid"
    else:
        assert len(serial) == 10
        assert parse_short_code(short_code(serial)) == serial


# ---------------------------------------------------------------- election definitions


@FUZZ
@given(content=st.binary(max_size=400) | st.text(max_size=400), suffix=st.sampled_from([".toml", ".json"]))
@example(content=b"", suffix=".toml")
@example(content=b"[election]\nid = 'x'\n" + b"[[envelopes]]\n" * 50, suffix=".toml")
@example(content=b"[" * 10_000, suffix=".json")
def test_election_loader_raises_only_definition_errors_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, content: str | bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("def") / f"election{suffix}"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", errors="surrogatepass")
    else:
        path.write_bytes(content)
    try:
        load_election(path)
    except ElectionDefinitionError as exc:
        assert path.name in exc.location


def _mutate(doc: Any, rng: random.Random, value: Any) -> Any:
    """Replace, delete or retype one randomly chosen node of the document."""
    if isinstance(doc, dict) and doc and rng.random() < 0.8:
        key = rng.choice(sorted(doc, key=str))
        out = dict(doc)
        roll = rng.random()
        if roll < 0.25:
            del out[key]
        elif roll < 0.5:
            out[key] = value
        else:
            out[key] = _mutate(doc[key], rng, value)
        return out
    if isinstance(doc, list) and doc and rng.random() < 0.8:
        i = rng.randrange(len(doc))
        out_l = list(doc)
        out_l[i] = value if rng.random() < 0.4 else _mutate(doc[i], rng, value)
        return out_l
    return value


@FUZZ
@given(seed=st.integers(0, 2**32), value=json_values, rounds=st.integers(1, 3))
def test_mutated_definition_is_accepted_or_rejected_with_its_key_path(
    seed: int, value: Any, rounds: int
) -> None:
    rng = random.Random(seed)
    doc: Any = tomllib.loads(TINY.read_text())
    for _ in range(rounds):
        doc = _mutate(doc, rng, value)
    try:
        election = election_from_dict(doc, "mutated.toml")
    except ElectionDefinitionError as exc:
        assert exc.location.startswith("mutated.toml") and exc.message
    else:
        assert election.envelopes


# ---------------------------------------------------------------- pabulib .pb


@FUZZ
@given(text=st.text(max_size=500))
@example(text="META\nkey;value\nbudget;1e999999\nvote_type;approval\nnum_projects;0\n")
@example(text="META\nkey;value\n\nPROJECTS\nproject_id;cost\n1;NaN\nVOTES\nvoter_id;vote\n")
def test_pb_parser_raises_only_pabulib_errors(text: str) -> None:
    try:
        parse_pabulib(text, "fuzz.pb")
    except PabulibError as exc:
        assert "fuzz.pb" in str(exc)


def _small_real_pb() -> Path:
    if not PABULIB.is_dir():
        pytest.skip(f"real pabulib data not found at {PABULIB} (needs ../shared/pabulib next to the repo)")
    files = sorted(PABULIB.glob("*.pb"), key=lambda p: p.stat().st_size)
    return files[0]


@pytest.mark.pabulib
@FUZZ
@given(seed=st.integers(0, 2**32), junk=st.text(max_size=30))
def test_mutated_real_pb_file_rejected_with_its_line(seed: int, junk: str) -> None:
    real = _small_real_pb()
    lines = real.read_text(encoding="utf-8").splitlines()
    rng = random.Random(seed)
    i = rng.randrange(len(lines))
    roll = rng.random()
    if roll < 0.3:
        lines[i] = junk
    elif roll < 0.6:
        del lines[i]
    else:
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:cut] + junk + lines[i][cut:]
    try:
        parse_pabulib("\n".join(lines), real.name)
    except PabulibError as exc:
        assert real.name in str(exc)


@FUZZ
@given(content=st.binary(max_size=300))
@example(content=b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
@example(content=b"\xff\xd8\xff\xe0\x00\x10JFIF")
def test_pb_file_reader_on_binary_garbage(tmp_path_factory: pytest.TempPathFactory, content: bytes) -> None:
    path = tmp_path_factory.mktemp("pb") / "garbage.pb"
    path.write_bytes(content)
    try:
        read_pabulib(path)
    except PabulibError as exc:
        assert "garbage.pb" in str(exc)


# ---------------------------------------------------------------- a whole batch of garbage


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_inputs.map(lambda x: x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass")),
                      min_size=1, max_size=40))
def test_a_file_of_bad_lines_is_ingested_to_the_end(tmp_path: Path, lines: list[bytes]) -> None:
    lines = [ln.replace(b"\n", b" ").replace(b"\r", b" ") for ln in lines]
    assume(any(ln.strip() for ln in lines))
    path = tmp_path / "garbage.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    db = tmp_path / "fuzz.sqlite"
    db.unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{db}")
    try:
        report = ingest_evote_file(store, path, ELECTION, KEY.public_key(), b"r" * 32, workers=1)
        nonblank = [(i, ln) for i, ln in enumerate(lines, start=1) if ln.strip()]
        assert report.lines == len(lines)
        assert report.rejected + report.accepted + report.already_known == len(nonblank)
        logged = {r.source_line for r in store.iter_rejections()}
        assert logged <= {i for i, _ in nonblank}
        for r in store.iter_rejections():
            assert r.reason in REJECTION_REASONS and r.source_name == "garbage.jsonl"
    finally:
        store.close()


def test_overlong_lines_are_rejected_at_their_line_and_the_batch_goes_on(tmp_path: Path) -> None:
    from engine.services.ingest import MAX_LINE_BYTES

    good = json.dumps({"token": VALID_TOKEN, "cast_at": "2026-05-03T10:00:00Z",
                       "selections": {"city": ["C1"], "north": ["N1"]}}).encode()
    long_line = b'{"token": "' + b"A" * (MAX_LINE_BYTES * 3) + b'"}'
    path = tmp_path / "long.jsonl"
    path.write_bytes(b"\n".join([b"{", long_line, good, long_line, b"x" * (MAX_LINE_BYTES + 10)]))  # no final \n
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    report = ingest_evote_file(store, path, ELECTION, KEY.public_key(), b"r" * 32, workers=1)
    rejected = {(r.source_line, r.reason): r.detail for r in store.iter_rejections()}
    store.close()
    assert report.lines == 5 and report.accepted == 1  # line 3 is a valid vote, numbered right
    assert set(rejected) == {(1, "malformed_line"), (2, "malformed_line"), (5, "malformed_line")}
    assert f"over the {MAX_LINE_BYTES}-byte limit" in rejected[(2, "malformed_line")]
    assert report.rejected == 4 and report.already_known == 0  # line 4 repeats line 2: logged once


def test_a_file_without_newlines_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """100 MB on one line: the reader's peak memory grows by far less than the line."""
    import subprocess
    import sys

    path = tmp_path / "one-line.jsonl"
    with path.open("wb") as f:
        for _ in range(100):
            f.write(b"[" * (1 << 20))
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from engine.services.ingest import _chunks\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "n = sum(len(c) for _, c in _chunks(Path(sys.argv[1]), 0, 2000))\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    res = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         cwd=REPO, timeout=300, check=True)
    lines, grew_kb = map(int, res.stdout.split())
    assert lines == 1
    assert grew_kb < 20_000  # < 20 MB for a 100 MB line
