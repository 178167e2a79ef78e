import psycopg
import pytest
from psycopg import errors
from psycopg_pool import PoolTimeout

from notifier.db import is_outage


@pytest.mark.parametrize(
    ("exc", "outage"),
    [
        (PoolTimeout("no connection"), True),
        (psycopg.OperationalError("server closed the connection unexpectedly"), True),
        (errors.AdminShutdown(), True),
        (errors.ConnectionFailure(), True),
        (errors.TooManyConnections(), True),
        (errors.ProgramLimitExceeded(), False),
        (errors.UntranslatableCharacter(), False),
        (errors.UniqueViolation(), False),
    ],
)
def test_outage_or_refusal(exc, outage):
    assert is_outage(exc) is outage
