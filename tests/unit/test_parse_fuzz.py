"""Property-based fuzzing of the body parsers (issue 13, item 10).

Whatever the body, ``parse_body`` either returns events or raises PayloadError (which
the receiver dead-letters with a 202); any other exception would be a 500 and a
sender's queue blocked. Bodies are arbitrary bytes, arbitrary JSON, and each sender's
real shape with any one field replaced by arbitrary JSON.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from notifier.errors import PayloadError
from notifier.intake.parse import ParsedBody, parse_body
from tests.support import minio_body, minio_record

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any code point, lone surrogates included (json.dumps escapes them as \udXXX).
any_text = st.text(st.characters(codec=None), max_size=20)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)

MINIO = json.loads(minio_body(minio_record("raw", "a b/c.csv", size=3, etag="e", version_id="v")))
SNS = {
    "Type": "Notification",
    "MessageId": "m",
    "TopicArn": "arn:aws:sns:us-east-1:1:t",
    "Message": json.dumps({"Records": MINIO["Records"]}),
}
SNS_CONFIRMATION = {
    "Type": "SubscriptionConfirmation",
    "TopicArn": "arn:aws:sns:us-east-1:1:t",
    "SubscribeURL": "https://sns.example/confirm",
    "Token": "t",
}
SEAWEEDFS = {
    "event_type": "create",
    "key": "/buckets/raw/in/x.csv",
    "message": {
        "new_entry": {
            "name": "x.csv",
            "attributes": {"file_size": 8, "mtime": 1795687296, "mime": "text/csv"},
            "extended": {"Seaweed-X-Amz-ETag": "ZTVlYg==", "X-Amz-Meta-Owner": "YWxpY2U="},
        },
        "new_parent_path": "/buckets/raw/in",
    },
}
SHAPES = [MINIO, SNS, SNS_CONFIRMATION, SEAWEEDFS]


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``document`` (the root excluded)."""
    found = []
    children = (
        document.items()
        if isinstance(document, dict)
        else enumerate(document)
        if isinstance(document, list)
        else []
    )
    for key, value in children:
        found.append((*prefix, key))
        found.extend(paths(value, (*prefix, key)))
    return found


@st.composite
def mutated_shapes(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(draw(st.sampled_from(SHAPES)))
    path = draw(st.sampled_from(paths(document)))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if draw(st.booleans()):
        parent[path[-1]] = draw(json_values)
    elif isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent.pop(path[-1])
    return json.dumps(document).encode()


def assert_parses_or_refuses(body: bytes) -> None:
    try:
        parsed = parse_body(body)
    except PayloadError as exc:
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        assert reason, "a dead letter needs a reason"
        return
    assert isinstance(parsed, ParsedBody)
    for event in parsed.events:
        assert isinstance(event.bucket, str)
        assert isinstance(event.key, str)
        assert event.dedup_key


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes(body: bytes) -> None:
    assert_parses_or_refuses(body)


@FUZZ
@given(json_values)
def test_arbitrary_json(document: Any) -> None:
    assert_parses_or_refuses(json.dumps(document).encode())


@FUZZ
@given(mutated_shapes())
@example(json.dumps({**MINIO, "Records": [{**MINIO["Records"][0], "eventSource": []}]}).encode())
@example(
    json.dumps(
        {**SEAWEEDFS, "message": {"new_entry": {"attributes": {"mtime": 9223372036854775259}}}}
    ).encode()
)
@example(
    json.dumps(
        {**SEAWEEDFS, "message": {"new_entry": {"attributes": {"mtime": -70000000000}}}}
    ).encode()
)
def test_each_senders_shape_with_one_field_replaced_or_removed(body: bytes) -> None:
    assert_parses_or_refuses(body)


@FUZZ
@given(st.sampled_from(SHAPES), json_values)
def test_sns_message_holding_anything(shape: dict[str, Any], message: Any) -> None:
    envelope = dict(SNS, Message=json.dumps(message))
    assert_parses_or_refuses(json.dumps(envelope).encode())


def test_the_unmutated_shapes_parse() -> None:
    assert len(parse_body(json.dumps(MINIO).encode()).events) == 1
    assert len(parse_body(json.dumps(SNS).encode()).events) == 1
    assert parse_body(json.dumps(SNS_CONFIRMATION).encode()).subscription is not None
    assert len(parse_body(json.dumps(SEAWEEDFS).encode()).events) == 1
