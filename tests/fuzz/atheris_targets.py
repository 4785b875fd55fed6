"""Coverage-guided fuzz targets (atheris, libFuzzer) for the readers of untrusted bytes.

Run one: ``.venv/bin/python tests/fuzz/atheris_targets.py TARGET [libFuzzer options] [corpus dir]``
(e.g. ``-runs=200000``, or no ``-runs`` to fuzz until stopped). ``tests/fuzz/test_fuzz_atheris.py``
runs each target for a bounded number of inputs in CI. Same properties as the hypothesis
tests in ``tests/fuzz/test_fuzz_inputs.py``: on any input a reader returns a result or raises
its own documented error; any other exception (or a crash) is a finding, and libFuzzer
writes the input that caused it to ``crash-*`` in the working directory.

Targets: ``evote`` (e-vote line parser, then validation and receipt), ``token`` (token text
and short-code decoders), ``pb`` (pabulib reader), ``election`` (definition loader).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import atheris
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

with atheris.instrument_imports(include=["engine"]):
    from engine.errors import ElectionDefinitionError, TokenError
    from engine.formats.election_definition import election_from_dict, load_election
    from engine.formats.evote import parse_evote_line
    from engine.formats.pabulib import PabulibError, parse_pabulib
    from engine.model.ballots import REJECTION_REASONS, Ballot, Rejection, SourceRef
    from engine.model.tokens import TokenVerifier, issue_token, parse_short_code
    from engine.services.ingest import process_lines, validate_one

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ELECTION = load_election(REPO / "fixtures" / "samples" / "tiny_election.toml")
VERIFIER = TokenVerifier(KEY.public_key(), ELECTION.id)
VALID_TOKEN = issue_token(KEY, ELECTION.id, bytes(10))
VALID_SERIAL = VERIFIER.verify(VALID_TOKEN).serial_text


def fuzz_evote(data: bytes) -> None:
    src = SourceRef("votes.jsonl", 7)
    for item in process_lines(ELECTION, VERIFIER, b"k" * 32, "votes.jsonl", [(7, data)]):  # the readers' path
        assert item.source == src, item
    parsed = parse_evote_line(data, src)
    if isinstance(parsed, Rejection):
        assert parsed.reason in REJECTION_REASONS, parsed.reason
        return
    result = validate_one(ELECTION, VERIFIER, b"k" * 32, parsed)
    if isinstance(result, Rejection):
        assert result.reason in REJECTION_REASONS and result.source == src, result
    else:
        assert isinstance(result, Ballot) and result.receipt_id.startswith("R") and result.selections
        assert result.voter_serial == VALID_SERIAL  # only the authority's token verifies


def fuzz_token(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        token = VERIFIER.verify(text)
    except TokenError as exc:
        assert exc.reason in REJECTION_REASONS, exc.reason
    else:
        assert token.serial_text == VALID_SERIAL, text  # no other token can be forged
    with contextlib.suppress(TokenError):
        parse_short_code(text)


def fuzz_pb(data: bytes) -> None:
    try:
        parse_pabulib(data.decode("utf-8", "replace"), "fuzz.pb")
    except PabulibError as exc:
        assert "fuzz.pb" in str(exc), str(exc)


def fuzz_election(data: bytes) -> None:
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return  # not JSON: the file loader reports it (tests/fuzz/test_fuzz_inputs.py)
    try:
        election_from_dict(doc, "fuzz.json")
    except ElectionDefinitionError as exc:
        assert str(exc), "an error without a message"


TARGETS = {"evote": fuzz_evote, "token": fuzz_token, "pb": fuzz_pb, "election": fuzz_election}


def seeds() -> dict[str, list[bytes]]:
    """A few valid inputs per target, to start the corpus from (see the test)."""
    from engine.formats.election_canonical import election_to_dict

    vote = {"token": VALID_TOKEN, "cast_at": "2026-05-03T10:00:00Z",
            "selections": {e.id: [p.id for p in ELECTION.projects_in(e.id)][:1] for e in ELECTION.envelopes[:2]}}
    pb = ("META\nkey;value\ndescription;fuzz\nnum_projects;2\nnum_votes;2\nbudget;100\nvote_type;approval\n"
          "rule;greedy\nPROJECTS\nproject_id;cost;votes\n1;60;2\n2;50;1\nVOTES\nvoter_id;vote\n1;1,2\n2;1\n")
    return {
        "evote": [json.dumps(vote).encode(), b'{"token": "PB1-", "cast_at": "", "selections": {}}',
                  # inputs that once crashed a whole ingestion (issue 13.3) and duplicate keys (13.13)
                  json.dumps({**vote, "cast_at": "0001-01-01T00:00:00+14:00"}).encode(),
                  json.dumps(vote).encode()[:-1] + b', "n": ' + b"9" * 5000 + b"}",
                  b"\x00pbcount-line-too-long:\xff\xfe\xfd",
                  b"\x00pbcount-line-too-long:" + b"0" * 64 + b":999999999",
                  json.dumps(vote).encode()[:-1] + b', "token": "PB1-"}'],
        "token": [VALID_TOKEN.encode(), b"AB12-CD34-EF56-GH78-J"],
        "pb": [pb.encode()],
        "election": [json.dumps(election_to_dict(ELECTION)).encode()],
    }


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus dir]")
    name = sys.argv.pop(1)
    for arg in sys.argv[1:]:  # an empty corpus directory starts from the seeds
        if not arg.startswith("-") and Path(arg).is_dir() and not any(Path(arg).iterdir()):
            for i, seed in enumerate(seeds()[name]):
                (Path(arg) / f"seed{i}").write_bytes(seed)
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()
