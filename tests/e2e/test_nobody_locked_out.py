"""Nobody locked out (issue 18), in a browser: Classics Inc. is on its BCP tenant, and Nina, made after the last
sync, has no account there. The sign-in page tells her whom to ask for what; the administrator, on the BCP
tenant, finds her named on BC Enablement, opens the list, confirms, and Nina signs in with her own password. Axe
on every page, the list again in German."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from accounts.models import User
from accounts.roles import AGENT
from audit.services import Actor
from contactcenter import services as cc
from enablement import services
from tenants.models import BcpMapping
from tests.enablement.conftest import (  # noqa: F401
    PASSKEY,
    _fresh_routing_cache,
    configured,
    mapping,
    sync_enabled,
    synced,
)
from tests.factories import PASSWORD, role_of
from tests.tenants.bcp_helpers import bcp_tenant_fixture  # noqa: F401

BCP_NAME = "Classics Inc. BCP"
NINA_PASSWORD = "Nina-own-pass-7"


@pytest.fixture
def switched_without_nina(synced, configured):  # noqa: F811
    cc.agent_create(tenant=configured, username="nina", password=NINA_PASSWORD, first_name="Nina", last_name="New",
                    role=role_of(configured, AGENT), actor=Actor.system())
    alice = User.objects.get(username="alice", is_bcp_copy=False)
    services.tenant_switch(mapping=synced, to_side=BcpMapping.Side.SECONDARY, passkey=PASSKEY,
                           actor=Actor(user=alice), force=True, reason="North America is down")
    return synced


def _sign_in(page, username, password):
    page.goto("/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def _sign_out(page):
    page.context.clear_cookies()


def test_a_person_made_after_the_last_sync_is_given_an_account_on_the_bcp_tenant(page, accessible,
                                                                                 switched_without_nina):
    _sign_in(page, "nina", NINA_PASSWORD)
    expect(page.get_by_text("you have no account there yet")).to_be_visible()
    expect(page.get_by_text(f"Ask one of your administrators to give you an account on “{BCP_NAME}” (BC Enablement → "
                            "People without an account)")).to_be_visible()
    accessible(page, where="the sign-in page, no account")

    _sign_in(page, "alice", PASSWORD)
    page.get_by_role("navigation", name="Admin", exact=True).get_by_role("link", name="BC Enablement",
                                                                         exact=True).click()
    users = page.get_by_test_id("check-users")
    expect(users).to_contain_text("Without one: Nina New.")
    expect(users).to_contain_text(f"An administrator on “{BCP_NAME}” can give them one now")
    users.get_by_role("link", name="See them and give them an account").click()
    expect(page.get_by_role("heading", name=f"People without an account on “{BCP_NAME}”", level=1)).to_be_visible()
    expect(page.get_by_test_id("missing-nina")).to_contain_text("Agent")
    accessible(page, where="People without an account")

    page.get_by_test_id("missing-nina").get_by_role("button", name="Give an account…").click()
    expect(page.get_by_role("heading", name=f"Give an account on “{BCP_NAME}”?", level=1)).to_be_visible()
    accessible(page, where="the confirmation")
    page.get_by_role("button", name="Give 1 account").click()
    expect(page.get_by_text("Nina New can sign in now")).to_be_visible()
    expect(page.get_by_test_id("nobody-missing")).to_be_visible()
    accessible(page, where="the list, empty")

    User.objects.filter(username="alice", is_bcp_copy=True).update(language="de")
    page.reload()
    with translation.override("de"):
        heading = translation.gettext("People without an account on “%(bcp)s”") % {"bcp": BCP_NAME}
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    accessible(page, where="the list in German")

    _sign_out(page)
    _sign_in(page, "nina", NINA_PASSWORD)
    expect(page).not_to_have_url(re.compile(r"/sign-in/"))
    expect(page.get_by_test_id("bcp-banner")).to_contain_text(f"You are working in {BCP_NAME}")
