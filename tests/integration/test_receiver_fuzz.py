"""Fuzzing the receiver end to end against PostgreSQL: no body is ever a 500.

The parsers' properties are in tests/unit/test_parse_fuzz.py; here the same bodies go
through the Flask app and the real database, which refuses some values the parsers
accept (an integer past bigint, a lone surrogate, a NUL): those must be dead letters.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TOKEN
from tests.unit.test_parse_fuzz import json_values, mutated_shapes

AUTH = {"Authorization": f"Bearer {TOKEN}"}
THROUGH_THE_DATABASE = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@THROUGH_THE_DATABASE
@given(mutated_shapes() | json_values.map(lambda d: json.dumps(d).encode()) | st.binary())
def test_no_body_is_a_500(client, body: bytes) -> None:
    response = client.post("/events", data=body, headers=AUTH)
    assert response.status_code in (200, 202), (response.status_code, response.data[:300])
    if response.status_code == 202:
        assert response.json["dead_lettered"] is True
