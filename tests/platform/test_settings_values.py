"""A URL or level in the environment that we cannot use stops the program with a message that names it,
without repeating the value's password."""

import pytest

from tests.platform.test_settings import _manage


@pytest.mark.parametrize(("value", "says"), [
    ("nonsense", "it is not a URL"),
    ("mysql://bcp:hunter2@db.example.com/bcp", "it starts with mysql://"),
])
def test_a_database_url_we_cannot_use_is_an_error(value, says):
    result = _manage("check", DEBUG="true", DATABASE_URL=value)
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres://" in result.stderr
    assert says in result.stderr
    assert "hunter2" not in result.stderr


def test_a_redis_url_without_its_scheme_is_an_error():
    result = _manage("check", DEBUG="true", REDIS_URL="127.0.0.1:6379")
    assert result.returncode != 0
    assert "REDIS_URL must be a redis:// or rediss:// URL" in result.stderr


def test_an_unknown_log_level_is_an_error():
    result = _manage("check", DEBUG="true", LOG_LEVEL="LOUD")
    assert result.returncode != 0
    assert "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr


def test_a_log_level_in_small_letters_is_fine():
    result = _manage("check", DEBUG="true", LOG_LEVEL="warning")
    assert result.returncode == 0, result.stderr
