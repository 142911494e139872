"""An onboarding worker for gu1-webhook's outcomes queue, in Python.

An SQS-triggered Lambda handler (``consumer.handler``) built on Powertools for
AWS Lambda's batch utilities:

- each record's body is validated against the message's JSON Schema
  (``schema/outcome-message.v1.json``): a body that is not a version 1
  outcome fails its record, and is never logged;
- on a FIFO queue, ``SqsFifoPartialProcessor(skip_group_on_error=True)``:
  records are handled in order, and after a failure that record and every
  later record of its message group (one person) fail too, while the other
  groups go on;
- on a standard queue, ``BatchProcessor(EventType.SQS)``: each record alone;
- the answer names the failed records (``{"batchItemFailures": [...]}``), so
  the event source mapping needs ``FunctionResponseTypes:
  [ReportBatchItemFailures]``;
- idempotent on ``sessionId``: SQS delivers at least once.

Run as a script it reads an SQS event (JSON) on stdin, prints the handler's
answer on stdout and one line per record on stderr:

    python consumer.py < event.json

Requirements: scripts/requirements/consumer.txt. Deploy this file with the
schema beside it (or set OUTCOME_SCHEMA_PATH).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from jsonschema import Draft202012Validator

logger = logging.getLogger("consumer")
logger.setLevel(logging.INFO)

_HERE = Path(__file__).resolve().parent


def _schema_path() -> Path:
    """The schema: OUTCOME_SCHEMA_PATH, else beside this file (as deployed),
    else the repository's schema/ folder."""
    if os.environ.get("OUTCOME_SCHEMA_PATH"):
        return Path(os.environ["OUTCOME_SCHEMA_PATH"])
    beside = _HERE / "outcome-message.v1.json"
    if beside.exists():
        return beside
    return _HERE.parents[1] / "schema" / "outcome-message.v1.json"


VALIDATOR = Draft202012Validator(json.loads(_schema_path().read_text()))


class NotAnOutcome(Exception):
    """A body that is not a version 1 outcome. Says where, never what: a body
    may hold personal data."""


class Store:
    """The sessions already handled. In memory here, so that the file runs
    anywhere; in production a conditional write keyed by sessionId (say a
    DynamoDB PutItem with ``attribute_not_exists(sessionId)``) done in the
    same transaction as the work, or after it."""

    def __init__(self) -> None:
        self._done: set[str] = set()

    def seen(self, session_id: str) -> bool:
        return session_id in self._done

    def mark(self, session_id: str) -> None:
        self._done.add(session_id)


STORE = Store()


def parse(body: str) -> dict:
    """A message body to an outcome, or NotAnOutcome."""
    try:
        outcome = json.loads(body)
    except json.JSONDecodeError as err:
        raise NotAnOutcome(f"invalid JSON at line {err.lineno}, column {err.colno}") from None
    error = next(iter(VALIDATOR.iter_errors(outcome)), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(the body)"
        raise NotAnOutcome(f"{where} fails the schema's {error.validator!r}") from None
    return outcome


def onboard(outcome: dict) -> None:
    """Your work: open the account, ask for another try, close the case...
    Raise to have the record (and, on FIFO, the rest of its group) redelivered."""


def record_handler(record: SQSRecord) -> None:
    try:
        outcome = parse(record.body)
    except NotAnOutcome as err:
        logger.warning("not-an-outcome %s %s", record.message_id, err)
        raise
    session_id = outcome["sessionId"]
    if STORE.seen(session_id):
        logger.info("duplicate %s", session_id)
        return
    onboard(outcome)
    STORE.mark(session_id)
    logger.info("handled %s %s", session_id, outcome["status"])


def _is_fifo(event: dict) -> bool:
    records = event.get("Records") or [{}]
    return records[0].get("eventSourceARN", "").endswith(".fifo")


def handler(event: dict, context=None) -> dict:
    """The Lambda handler: ``{"batchItemFailures": [{"itemIdentifier": id}]}``.
    Raises (the whole batch redelivered) only when every record failed."""
    processor = (
        SqsFifoPartialProcessor(skip_group_on_error=True)
        if _is_fifo(event)
        else BatchProcessor(event_type=EventType.SQS)
    )
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
    print(json.dumps(handler(json.load(sys.stdin))))
