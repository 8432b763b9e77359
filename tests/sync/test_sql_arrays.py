"""Arrays sent to PostgreSQL as the text of one literal (sync/engine/sql.array) arrive as the values they were."""

import pytest
from django.db import connections

from tests.sync.conftest import BACKUP

CASES = [
    ("bigint", [1, 2, 3, 2**62]),
    ("bigint", []),
    ("bigint", [1, None, 3]),
    ("text", ["plain", 'a "quoted" one', "back\\slash", "ends with \\", "NULL", "", "a,b", "{x}", " padded ",
              "Zoë", "line\nbreak"]),
    ("text", ["some", None, 'q"']),
    ("boolean", [True, False, None]),
]


@pytest.mark.parametrize(("kind", "values"), CASES)
def test_an_array_sent_as_one_literal_arrives_as_it_was(kind, values):
    from sync.engine.sql import array

    connection = connections[BACKUP]
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's array literals (CI runs PostgreSQL)")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{kind}[]", [array(values)])
        assert cursor.fetchone()[0] == values


def test_values_without_a_literal_form_are_left_to_the_driver():
    from datetime import date

    from sync.engine.sql import array

    values = [date(2026, 12, 25)]
    assert array(values) is values
