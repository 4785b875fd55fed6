"""Named id types (engine/model/ids.py) in the engine's signatures: mypy (run by `make
test`) can only tell a project id from an envelope or receipt id where the fields and
functions say which is which."""

from __future__ import annotations

import typing

from engine.counting.allocation import ElectionAllocation
from engine.counting.tally import EnvelopeTally, Tally
from engine.model.ballots import Ballot
from engine.model.election import Envelope, Project
from engine.model.ids import EnvelopeId, ProjectId, ReceiptId
from engine.model.receipts import online_receipt_id, paper_receipt_id, parse_receipt_or_stub
from engine.rules.problem import AllocationProblem, AllocationResult, ProjectOutcome
from engine.services.receipts import PublishedLog, receipt_proof


def hints(obj: object) -> dict[str, object]:
    from engine.rules.grades import GradeProfile
    from engine.rules.profile import ApprovalProfile

    # names some modules import for type checking only
    return typing.get_type_hints(obj, localns={"ApprovalProfile": ApprovalProfile, "GradeProfile": GradeProfile})


def test_model_fields_name_their_id_type() -> None:
    assert hints(Project)["id"] is ProjectId and hints(Project)["envelope"] is EnvelopeId
    assert hints(Envelope)["id"] is EnvelopeId
    assert hints(Ballot)["receipt_id"] is ReceiptId
    assert hints(Ballot)["selections"] == tuple[tuple[EnvelopeId, tuple[ProjectId, ...]], ...]


def test_rules_and_counting_name_their_id_type() -> None:
    assert hints(AllocationProblem)["project_ids"] == tuple[ProjectId, ...]
    assert hints(AllocationResult)["selected"] == tuple[ProjectId, ...]
    assert hints(ProjectOutcome)["project_id"] is ProjectId
    assert hints(Tally)["envelopes"] == dict[EnvelopeId, EnvelopeTally]
    assert hints(ElectionAllocation)["envelopes"] == dict[EnvelopeId, AllocationResult]


def test_receipt_functions_return_and_take_receipt_ids() -> None:
    for f in (online_receipt_id, paper_receipt_id, parse_receipt_or_stub):
        assert hints(f)["return"] is ReceiptId, f.__name__
    assert hints(PublishedLog.locate)["receipt"] is ReceiptId
    assert hints(receipt_proof)["receipt"] is ReceiptId
