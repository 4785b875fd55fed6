"""Schemathesis against /openapi.json: generated requests, valid and invalid, to every
operation, with an admin key so the handlers behind the access checks run too. The
property checked is the issue's: no 5xx, whatever the input.

Bounded: ``EXAMPLES`` valid and ``EXAMPLES`` invalid cases per operation (derandomized, so
each run sends the same requests) — about a minute on the shared CI machine.
(``schemathesis.pytest.from_fixture`` does not work with pytest 9, so the operations are
iterated here and each runs a Hypothesis test built from ``operation.as_strategy``.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from helpers.api_fixtures import ApiWorld, make_world
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api import ApiSettings, create_app

EXAMPLES = 15


@pytest.fixture(scope="module")
def world_app(small_paris: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiWorld, object]]:
    world = make_world(tmp_path_factory.mktemp("schemathesis"), small_paris)
    app = create_app(ApiSettings(keys_dir=world.keys_dir, bundle_dir=world.dir / "bundle"), store=world.store)
    with TestClient(app):  # runs the lifespan (the vote writer) for the whole module
        yield world, app


def operations(app: object) -> list[object]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [r.ok() for r in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_no_server_error_on_any_input(world_app: tuple[ApiWorld, object], mode: GenerationMode) -> None:
    world, app = world_app
    ops = operations(app)
    assert len(ops) == 20  # every endpoint of the issue, the two HTML pages, GET /v1/verifier.zip, 3 sortition
    failures: list[str] = []
    for op in ops:

        @given(case=op.as_strategy(generation_mode=mode))  # type: ignore[attr-defined]
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=world.admin(), checks=[not_a_server_error])

        try:
            run()
        except Unsatisfiable:  # an operation without parameters has no invalid input to generate
            assert mode is GenerationMode.NEGATIVE, op
        except Exception as exc:  # collect every failing operation, then fail once
            failures.append(f"{op.label}: {str(exc)[:2000]}")  # type: ignore[attr-defined]
    assert not failures, "\n\n".join(failures)
