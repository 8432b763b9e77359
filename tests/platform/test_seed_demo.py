"""seed_demo --password on a database that already has the demo: the password it prints is the one that works."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts import demo as accounts_demo
from accounts.models import User
from sync import demo as sync_demo
from tests.auditlog import audit_events

FIRST, SECOND = "first-demo-password-1", "second-demo-password-2"


def _seed(password: str) -> str:
    out = StringIO()
    call_command("seed_demo", password=password, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    _seed(FIRST)


def test_a_new_password_reaches_every_demo_account_that_was_there(seeded):
    output = _seed(SECOND)
    assert "(password: second-demo-password-2)" in output
    assert "now have this password too" in output
    for username in accounts_demo.USERNAMES:
        user = User.objects.get(username=username, is_bcp_copy=False)
        assert user.check_password(SECOND), username
        assert not user.check_password(FIRST), username
    generated = User.objects.get(username="olivia.anderson", is_bcp_copy=False)
    assert generated.check_password(SECOND)
    assert audit_events().filter(action="user.password_set").count() == len(accounts_demo.USERNAMES)


def test_the_same_password_again_writes_nothing(seeded):
    passwords = sorted(User.objects.values_list("password", flat=True))
    _seed(FIRST)
    assert sorted(User.objects.values_list("password", flat=True)) == passwords
    assert not audit_events().filter(action="user.password_set").exists()


def test_a_seed_that_fails_part_way_keeps_the_old_passwords(seeded, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the sync demo broke")

    monkeypatch.setattr(sync_demo, "seed", broken)
    with pytest.raises(RuntimeError):
        _seed(SECOND)
    assert User.objects.get(username="admin", is_bcp_copy=False).check_password(FIRST)
    assert User.objects.get(username="olivia.anderson", is_bcp_copy=False).check_password(FIRST)


def test_a_first_seed_says_nothing_about_existing_accounts(db):
    assert "now have this password" not in _seed(FIRST)
