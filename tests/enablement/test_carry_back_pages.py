"""BC Enablement while the BCP tenant is active: the changes made there, the choice per record, the review of the
switch back and the switch back itself, for every persona."""

import html
import re

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.roles import ADMINISTRATOR, AGENT, CHANGE_BCP_ENABLEMENT, SUPERVISOR, VIEW_BCP_ENABLEMENT
from accounts.services import role_set_permissions
from audit.services import Actor
from bcp_project.regions import health
from contactcenter import services as cc
from contactcenter.models import Skill, Tag, Team
from sync import carryback
from tenants.models import BcpMapping
from tests.enablement.conftest import PASSKEY
from tests.enablement.test_carry_back import NEW_PASSWORD, copy_of, edit_agent, original, switch
from tests.factories import role_of
from tests.permissions import POST, Row, answers, ask, cases
from tests.queries import CaptureQueriesEverywhere

BCP, PRIMARY = BcpMapping.Side.SECONDARY, BcpMapping.Side.PRIMARY
SCOPE = [VIEW_BCP_ENABLEMENT, CHANGE_BCP_ENABLEMENT]


@pytest.fixture
def on_bcp(synced, other_tenant):
    role_set_permissions(role=role_of(synced.primary, SUPERVISOR), permissions=[VIEW_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    role_set_permissions(role=role_of(other_tenant, ADMINISTRATOR), permissions=[CHANGE_BCP_ENABLEMENT],
                         scope=SCOPE, actor=Actor.system())
    switch(synced, BCP)
    return synced


@pytest.fixture
def worked(on_bcp):
    """An agent's work on the BCP tenant: a team edited, a tag created, a tag deleted."""
    actor = Actor.system()
    cc.team_update(team=copy_of(Team, on_bcp, "Sales"), name="Sales", description="Night shift", actor=actor)
    cc.tag_create(tenant=on_bcp.secondary, name="Storm", actor=actor)
    cc.tag_delete(tag=copy_of(Tag, on_bcp, "VIP"), actor=actor)
    return on_bcp


@pytest.fixture
def bcp_admin(client, on_bcp):
    """Alice, signed in where everyone lands now: her account on the BCP tenant."""
    client.force_login(User.objects.get(username="alice", is_bcp_copy=True))
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def review_data(mapping, choices=None, **extra):
    found = carryback.bcp_changes(mapping=mapping)
    return {"step": "review", "changes_token": found.token,
            **{f"choice-{item.key}": (choices or {}).get(item.name, carryback.CARRY) for item in found.items},
            **extra}


def test_the_page_lists_what_the_bcp_tenant_changed_with_both_sides(bcp_admin, worked):
    cc.team_update(team=original(Team, worked, "Sales"), name="Sales", description="Day shift",
                   actor=Actor.system())
    page = text(bcp_admin.get(reverse("enablement:page")))
    assert 'data-testid="bcp-changes"' in page and 'data-testid="carry-back-form"' in page
    storm = copy_of(Tag, worked, "Storm")
    sales = copy_of(Team, worked, "Sales")
    assert f'data-testid="change-tag:{storm.pk}"' in page and f'data-testid="change-team:{sales.pk}"' in page
    for words in ("Created here", "Edited here", "Deleted here", "Changed meanwhile: both sides changed it",
                  "Users and roles are listed too"):
        assert words in page, words
    # The switch form waits for the review: no passkey field before it.
    assert 'data-testid="switch-back-needs-review"' in page and 'name="passkey"' not in page


def test_nothing_changed_says_so_and_the_switch_back_is_the_plain_form(bcp_admin, on_bcp):
    page = text(bcp_admin.get(reverse("enablement:page")))
    assert "Switching back loses nothing" in page and 'name="passkey"' in page


def test_review_then_switch_back_carries_back_what_was_chosen(bcp_admin, worked):
    review = bcp_admin.post(reverse("enablement:switch"), review_data(worked, {"Storm": carryback.KEEP}))
    assert review.status_code == 200
    page = text(review)
    assert 'data-testid="switch-back-review"' in page and 'name="passkey"' in page
    carried = page.split('data-testid="review-carried"')[1].split("</ul>")[0]
    assert "Team “Sales”" in carried and "Tag “VIP”" in carried
    assert "Tag “Storm”" in page.split('data-testid="review-stays"')[1].split("</ul>")[0]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    assert hidden["changes_token"] and sum(name.startswith("choice-") for name in hidden) == 3
    done = bcp_admin.post(reverse("enablement:switch"), {**hidden, "passkey": PASSKEY, "confirm": "on"},
                          follow=True)
    assert done.redirect_chain[-1][0] == reverse("accounts:login")
    assert "Carried back to the primary: Sales, VIP. The primary's version stands for: Storm." in text(done)
    worked.refresh_from_db()
    assert worked.active_side == PRIMARY
    assert original(Team, worked, "Sales").description == "Night shift"
    assert not Tag.objects.filter(tenant_id=worked.primary_id, name__in=["VIP", "Storm"]).exists()


def test_the_review_in_german_quotes_the_names_the_german_way(bcp_admin, worked):
    User.objects.filter(username="alice", is_bcp_copy=True).update(language="de")
    review = text(bcp_admin.post(reverse("enablement:switch"), review_data(worked, {"Storm": carryback.KEEP})))
    lists = review.split('data-testid="switch-back-review"')[1].split("<form")[0]
    assert "Team „Sales“" in lists and "Tag „Storm“" in lists
    assert "”" not in lists  # the English closing quote; German closes with “


def test_carry_back_everything_in_one_choice(bcp_admin, worked):
    data = {key: value for key, value in review_data(worked).items() if not key.startswith("choice-")}
    review = bcp_admin.post(reverse("enablement:switch"), {**data, "all_choice": carryback.CARRY})
    carried = text(review).split('data-testid="review-carried"')[1].split("</ul>")[0]
    assert review.status_code == 200 and all(f"“{name}”" in carried for name in ("Sales", "VIP", "Storm"))


def test_a_list_that_changed_after_it_was_shown_is_refused_with_a_clear_message(bcp_admin, worked):
    data = review_data(worked)
    cc.tag_create(tenant=worked.secondary, name="Hail", actor=Actor.system())
    response = bcp_admin.post(reverse("enablement:switch"), data)
    assert response.status_code == 409
    assert "not the ones you were shown" in text(response) and "“Hail”" not in text(response).split("<form")[0]
    # The final step too: nothing carried back, nothing switched.
    final = {key: value for key, value in data.items() if key != "step"}
    response = bcp_admin.post(reverse("enablement:switch"), {**final, "passkey": PASSKEY, "confirm": "on"})
    assert response.status_code == 409 and "not the ones you were shown" in text(response)
    worked.refresh_from_db()
    assert worked.active_side == BCP and original(Team, worked, "Sales").description == ""


def test_a_switch_back_without_the_review_is_refused_while_there_are_changes(bcp_admin, worked):
    response = bcp_admin.post(reverse("enablement:switch"), {"passkey": PASSKEY, "confirm": "on"})
    assert response.status_code == 409 and "review the switch back" in text(response)
    worked.refresh_from_db()
    assert worked.active_side == BCP


def test_a_record_that_needs_another_is_refused_and_the_choices_are_kept(bcp_admin, on_bcp):
    skill = cc.skill_create(tenant=on_bcp.secondary, name="Storm Line", channel="phone", actor=Actor.system())
    cc.disposition_create(tenant=on_bcp.secondary, name="Storm call", skills=[skill], actor=Actor.system())
    response = bcp_admin.post(reverse("enablement:switch"),
                              review_data(on_bcp, {"Storm Line": carryback.KEEP}))
    page = text(response)
    assert response.status_code == 400 and "carry that back too" in page
    keep = page.split(f'data-testid="keep-skill:{skill.pk}"')[0].rsplit("<input", 1)[1]
    assert "checked" in keep
    assert not Skill.objects.filter(tenant_id=on_bcp.primary_id, name="Storm Line").exists()


def test_a_wrong_passkey_on_the_review_shows_the_review_again(bcp_admin, worked):
    final = {key: value for key, value in review_data(worked).items() if key != "step"}
    response = bcp_admin.post(reverse("enablement:switch"), {**final, "passkey": "WRONG", "confirm": "on"})
    assert response.status_code == 400
    assert 'data-testid="switch-back-review"' in text(response) and "passkey is not right" in text(response)
    assert original(Team, worked, "Sales").description == ""


def test_the_page_costs_the_same_queries_with_more_changes(bcp_admin, worked):
    bcp_admin.get(reverse("enablement:page"))
    with CaptureQueriesEverywhere() as few:
        bcp_admin.get(reverse("enablement:page"))
    for index in range(5):
        cc.tag_create(tenant=worked.secondary, name=f"Storm {index}", actor=Actor.system())
        cc.team_update(team=copy_of(Team, worked, "Billing Support"), name="Billing Support",
                       description=f"shift {index}", actor=Actor.system())
    with CaptureQueriesEverywhere() as many:
        page = text(bcp_admin.get(reverse("enablement:page")))
    assert "Storm 4" in page
    assert len(many) == len(few), [q["sql"] for q in many][:80]


def test_a_representative_reviews_and_switches_back_from_tm(client, rep, worked):
    client.force_login(rep)
    url = reverse("enablement:tm_page", args=[worked.primary_id])
    assert 'data-testid="carry-back-form"' in text(client.get(url))
    review = client.post(url, review_data(worked))
    assert review.status_code == 200 and 'data-testid="switch-back-review"' in text(review)
    final = {key: value for key, value in review_data(worked).items() if key != "step"}
    response = client.post(url, {**final, "passkey": PASSKEY, "confirm": "on"}, follow=True)
    assert "is active again" in text(response) and "Carried back to the primary" in text(response)
    assert original(Team, worked, "Sales").description == "Night shift"


# The review step, for every persona of the primary (whose page shows the pair too): anonymous, agent,
# supervisor (View), tenant_admin (Edit), other_admin (Edit on an unpaired tenant), rep.
REVIEW = [Row("enablement:switch", POST, answers(302, 404, 403, 200, 404, 404), given="review"),
          Row("enablement:tm_page", POST, answers(302, 404, 404, 404, 404, 200), given="review")]


@pytest.mark.parametrize(("row", "persona"), cases(REVIEW))
def test_the_review_for_every_persona(client, request, worked, row, persona):
    # The pair's people are the configured ones (alice, sam, andy: the personas' names); the others as usual.
    people = {"tenant_admin": "alice", "supervisor": "sam", "agent": "andy"}
    if persona in people:
        client.force_login(User.objects.get(username=people[persona], is_bcp_copy=False))
    elif persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    args = [worked.primary_id] if row.name == "enablement:tm_page" else []
    response = ask(client, row, persona, args=args, data=review_data(worked))
    if response.status_code == 200:
        assert 'data-testid="switch-back-review"' in text(response)
    worked.refresh_from_db()
    assert worked.active_side == BCP and original(Team, worked, "Sales").description == ""


def test_someone_who_may_only_look_sees_the_changes_without_choices(client, worked):
    client.force_login(User.objects.get(username="sam", is_bcp_copy=False))
    page = text(client.get(reverse("enablement:page")))
    assert 'data-testid="bcp-changes"' in page and "Edited here" in page
    assert 'data-testid="carry-back-form"' not in page and 'type="radio"' not in page


def test_the_changes_and_the_review_speak_german(client, worked):
    alice = User.objects.get(username="alice", is_bcp_copy=True)
    User.objects.filter(pk=alice.pk).update(language="de")
    client.force_login(alice)
    page = text(client.get(reverse("enablement:page")))
    for words in ("Änderungen auf dem BCP-Mandanten", "Hier bearbeitet", "Zurückwechseln prüfen"):
        assert words in page, words
    review = text(client.post(reverse("enablement:switch"), review_data(worked)))
    assert "Auf den primären Mandanten zurückübertragen" in review and "Zurückwechseln" in review


def test_with_the_backups_region_down_the_plain_form_says_what_the_switch_back_costs(client, worked):
    from bcp_project.regions import health

    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    health.mark_down("eu", "OperationalError: connection refused")
    page = text(client.get(reverse("enablement:page")))
    assert "cannot be listed or carried back" in page and 'name="passkey"' in page


def test_the_done_message_leaves_out_an_empty_list(bcp_admin, worked):
    data = {key: value for key, value in review_data(worked).items() if not key.startswith("choice-")}
    review = text(bcp_admin.post(reverse("enablement:switch"), {**data, "all_choice": carryback.KEEP}))
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', review))
    done = text(bcp_admin.post(reverse("enablement:switch"), {**hidden, "passkey": PASSKEY, "confirm": "on"},
                               follow=True))
    assert "The primary's version stands for: " in done
    assert "Carried back to the primary" not in done and "nothing" not in done


def _switch_back(client, mapping, choices=None, *, on_commit=None):
    """Reviews and switches back; with `on_commit` (django_capture_on_commit_callbacks), what runs after the
    switch's commit runs too."""
    from contextlib import nullcontext

    review = text(client.post(reverse("enablement:switch"), review_data(mapping, choices)))
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', review))
    with on_commit(execute=True) if on_commit else nullcontext():
        done = client.post(reverse("enablement:switch"), {**hidden, "passkey": PASSKEY, "confirm": "on"},
                           follow=True)
    mapping.refresh_from_db()
    assert mapping.active_side == PRIMARY
    return done


def test_changes_since_the_last_sync_leaves_out_what_was_carried_back(client, bcp_admin, worked,
                                                                      django_capture_on_commit_callbacks):
    cc.tag_create(tenant=worked.primary, name="Fresh", actor=Actor.system())  # made on the primary meanwhile
    cc.team_update(team=original(Team, worked, "Billing Support"), name="Billing Support", description="New",
                   actor=Actor.system())
    _switch_back(bcp_admin, worked, on_commit=django_capture_on_commit_callbacks)  # the sync it queues waits
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    page = text(client.get(reverse("sync:changes")))
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td>", page)
    # Sales (edited there), Storm (created there) and VIP (deleted there) were carried back: the BCP tenant has them.
    assert sorted(rows) == [("Billing Support", "Changed"), ("Fresh", "Created")], rows


def test_the_switch_back_starts_the_sync_that_overwrites_what_was_not_carried_back(
        bcp_admin, worked, django_capture_on_commit_callbacks):
    from sync.models import SyncRun

    review = text(bcp_admin.post(reverse("enablement:switch"), review_data(worked, {"Storm": carryback.KEEP})))
    assert "Overwritten by the primary's version by the sync that starts when you switch back" in review
    done = text(_switch_back(bcp_admin, worked, {"Sales": carryback.KEEP},
                             on_commit=django_capture_on_commit_callbacks))
    assert "A sync has started" in done
    run = SyncRun.objects.filter(mapping=worked).order_by("-id").first()
    assert run.trigger == SyncRun.Trigger.SWITCH_BACK and run.status == SyncRun.Status.QUEUED
    assert run.requested_by.username == "alice"


def test_with_sync_disabled_the_switch_back_says_the_overwrite_waits_for_it(bcp_admin, worked,
                                                                            django_capture_on_commit_callbacks):
    from sync.models import SyncConfiguration, SyncRun

    SyncConfiguration.objects.filter(mapping=worked).update(enabled=False)
    before = SyncRun.objects.filter(mapping=worked).count()
    review = text(bcp_admin.post(reverse("enablement:switch"), review_data(worked, {"Sales": carryback.KEEP})))
    assert "when Sync is enabled again (it is disabled now)" in review
    done = text(_switch_back(bcp_admin, worked, {"Sales": carryback.KEEP},
                             on_commit=django_capture_on_commit_callbacks))
    assert "Sync is disabled for this pair, so nothing on the BCP tenant is overwritten" in done
    assert "A sync has started" not in done and SyncRun.objects.filter(mapping=worked).count() == before


def test_a_conflict_shows_both_values_and_has_no_default_choice(bcp_admin, worked):
    cc.team_update(team=original(Team, worked, "Sales"), name="Sales", description="Day shift",
                   actor=Actor.system())
    page = text(bcp_admin.get(reverse("enablement:page")))
    sales = copy_of(Team, worked, "Sales")
    key = f"team:{sales.pk}"
    mine = page.split(f'data-testid="bcp-values-{key}">')[1].split("</dl>")[0]
    theirs = page.split(f'data-testid="primary-values-{key}">')[1].split("</dl>")[0]
    assert "<dt>Description</dt><dd>Night shift</dd>" in mine and "<dt>Description</dt><dd>Day shift</dd>" in theirs
    assert "Name" not in mine  # only what differs
    # Neither choice is made for the conflict; the record only the BCP tenant changed keeps "Carry it back".
    carry = page.split(f'data-testid="carry-{key}"')[0].rsplit("<input", 1)[1]
    keep = page.split(f'data-testid="keep-{key}"')[0].rsplit("<input", 1)[1]
    assert "checked" not in carry and "checked" not in keep
    storm = copy_of(Tag, worked, "Storm")
    assert "checked" in page.split(f'data-testid="carry-tag:{storm.pk}"')[0].rsplit("<input", 1)[1]
    assert "A record only the BCP tenant changed is set to be carried back" in page
    # A review without a choice for it is refused, saying what is lost either way; nothing is changed.
    data = {name: value for name, value in review_data(worked).items() if name != f"choice-{key}"}
    response = bcp_admin.post(reverse("enablement:switch"), data)
    assert response.status_code == 400
    assert "“Sales” was changed on both sides: choose whether it is carried back" in text(response)
    assert 'data-testid="switch-back-review"' not in text(response)
    assert original(Team, worked, "Sales").description == "Day shift"


def test_an_edit_the_primary_did_not_touch_shows_what_the_bcp_tenant_changed_in_german(client, worked):
    alice = User.objects.get(username="alice", is_bcp_copy=True)
    User.objects.filter(pk=alice.pk).update(language="de")
    client.force_login(alice)
    page = text(client.get(reverse("enablement:page")))
    key = f"team:{copy_of(Team, worked, 'Sales').pk}"
    assert "<dd>Night shift</dd>" in page.split(f'data-testid="bcp-values-{key}">')[1].split("</dl>")[0]
    assert "<dd>—</dd>" in page.split(f'data-testid="primary-values-{key}">')[1].split("</dl>")[0]
    assert "<dt>Beschreibung</dt>" in page


def test_the_review_is_its_own_step_at_the_top_of_the_page(bcp_admin, worked):
    page = text(bcp_admin.post(reverse("enablement:switch"), review_data(worked)))
    assert "<title>Review the switch back · BC Enablement" in page
    main = page.split("<main")[1]
    # The review comes before everything else of the panel, with its own heading.
    assert main.index('id="review-title"') < main.index('data-testid="active-tenant"')
    assert main.count('data-testid="switch-back-review"') == 1


def test_without_the_confirmation_the_review_keeps_the_choices_and_asks_for_the_passkey_again(bcp_admin, worked):
    final = {key: value for key, value in review_data(worked, {"Storm": carryback.KEEP}).items() if key != "step"}
    response = bcp_admin.post(reverse("enablement:switch"), {**final, "passkey": PASSKEY})
    page = text(response)
    assert response.status_code == 400 and "<title>Review the switch back · BC Enablement" in page
    assert "Confirm that everyone is signed out" in page
    assert "Type the passkey again: it is never sent back to your browser" in page and PASSKEY not in page
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    storm = copy_of(Tag, worked, "Storm")
    assert hidden[f"choice-tag:{storm.pk}"] == carryback.KEEP and hidden["changes_token"] == final["changes_token"]
    worked.refresh_from_db()
    assert worked.active_side == BCP


def test_the_review_step_speaks_german(client, worked):
    alice = User.objects.get(username="alice", is_bcp_copy=True)
    User.objects.filter(pk=alice.pk).update(language="de")
    client.force_login(alice)
    final = {key: value for key, value in review_data(worked).items() if key != "step"}
    page = text(client.post(reverse("enablement:switch"), {**final, "passkey": PASSKEY}))
    assert "<title>Zurückwechseln prüfen · BC-Aktivierung" in page
    assert "Geben Sie den Passkey erneut ein" in page
    assert "durch die Synchronisierung, die beim Zurückwechseln beginnt" in page


@pytest.mark.parametrize(("language", "says"), [
    ("en", "because the database of North America does not answer (see above)"),
    ("de", "weil die Datenbank von Nordamerika nicht antwortet (siehe oben)"),
])
def test_with_the_primarys_region_down_the_note_names_that_region(bcp_admin, worked, language, says):
    User.objects.filter(username="alice").update(language=language)
    health.mark_down("na", "OperationalError: connection refused")
    try:
        page = text(bcp_admin.get(reverse("enablement:page")))
    finally:
        health.mark_up("na")
    assert 'data-testid="bcp-changes-unavailable"' in page
    assert says in page and "a region's database" not in page and "einer Region" not in page


# --- "Change the choices" on the review -------------------------------------------------------------------------


def _form_of(page: str, testid: str) -> str:
    """The <form> that holds the element with data-testid=`testid`."""
    before, after = page.split(f'data-testid="{testid}"', 1)
    return before.rsplit("<form", 1)[1] + f'data-testid="{testid}"' + after.split("</form>", 1)[0]


def _press(client, page: str, testid: str):
    """Submits the form that holds the button `testid` with that button, as a browser does without script: the
    form's hidden fields, the button's name and value, to the button's formaction (else the form's action)."""
    form = _form_of(page, testid)
    button = re.search(rf'<button[^>]*data-testid="{testid}"[^>]*>', form).group(0)
    attribute = dict(re.findall(r'(\w+)="([^"]*)"', button))
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    data[attribute["name"]] = attribute["value"]
    action = attribute.get("formaction") or re.search(r'action="([^"]*)"', form).group(1)
    return client.post(action.split("#")[0], data), action


def _checked(page: str) -> dict[str, str]:
    """Each record's radio that is checked on the list: choice-<key> -> value."""
    radios = re.findall(r'<input type="radio" name="(choice-[^"]+)" value="([^"]+)"( checked)?', page)
    return {name: value for name, value, checked in radios if checked}


def test_change_the_choices_returns_to_the_list_with_every_choice_kept(bcp_admin, worked):
    cc.team_update(team=original(Team, worked, "Sales"), name="Sales", description="Day shift",
                   actor=Actor.system())  # a conflict: it has no default, so what is checked was chosen
    storm, sales = copy_of(Tag, worked, "Storm"), copy_of(Team, worked, "Sales")
    page = text(bcp_admin.get(reverse("enablement:page")))
    assert f"choice-team:{sales.pk}" not in _checked(page)
    chosen = review_data(worked, {"Storm": carryback.KEEP, "Sales": carryback.CARRY, "VIP": carryback.KEEP})
    review = text(bcp_admin.post(reverse("enablement:switch"), chosen))
    assert 'data-testid="switch-back-review"' in review
    # A button of the review's form (keyboard-reachable, no script), not a link that forgets the choices.
    assert re.search(r'<button type="submit"[^>]*name="step" value="change"[^>]*data-testid="change-choices"', review)

    response, action = _press(bcp_admin, review, "change-choices")
    page = text(response)
    assert response.status_code == 200 and action == reverse("enablement:switch") + "#changes-title"
    assert 'id="changes-title"' in page and 'data-testid="carry-back-form"' in page
    assert 'data-testid="switch-back-review"' not in page and 'name="passkey"' not in page
    assert _checked(page) == {name: value for name, value in chosen.items() if name.startswith("choice-")}
    assert _checked(page)[f"choice-tag:{storm.pk}"] == carryback.KEEP
    assert _checked(page)[f"choice-team:{sales.pk}"] == carryback.CARRY
    # Reviewing again as the list stands reviews the same choices; nothing was changed meanwhile.
    again = text(bcp_admin.post(reverse("enablement:switch"), {
        "step": "review", "changes_token": chosen["changes_token"], **_checked(page)}))
    carried = again.split('data-testid="review-carried"')[1].split("</ul>")[0]
    assert "Team “Sales”" in carried and "Storm" not in carried and "VIP" not in carried
    worked.refresh_from_db()
    assert worked.active_side == BCP and original(Team, worked, "Sales").description == "Day shift"


def test_change_the_choices_after_one_choice_for_everything_shows_it_per_record(bcp_admin, worked):
    data = {key: value for key, value in review_data(worked).items() if not key.startswith("choice-")}
    review = text(bcp_admin.post(reverse("enablement:switch"), {**data, "all_choice": carryback.KEEP}))
    page = text(_press(bcp_admin, review, "change-choices")[0])
    assert set(_checked(page).values()) == {carryback.KEEP} and len(_checked(page)) == 3
    # The one choice is spelled out in the records and the list is back at "Choose per record below", so changing
    # one of them takes effect (a choice for every record would replace it).
    assert "selected" not in page.split('id="id_all_choice"')[1].split("</select>")[0]


def test_change_the_choices_on_a_list_that_changed_says_so_and_keeps_the_rest(bcp_admin, worked):
    review = text(bcp_admin.post(reverse("enablement:switch"), review_data(worked, {"Storm": carryback.KEEP})))
    hail = cc.tag_create(tenant=worked.secondary, name="Hail", actor=Actor.system())
    response, _action = _press(bcp_admin, review, "change-choices")
    page = text(response)
    assert response.status_code == 200 and "not the ones you were shown" in page
    checked = _checked(page)
    assert checked[f"choice-tag:{copy_of(Tag, worked, 'Storm').pk}"] == carryback.KEEP
    assert checked[f"choice-tag:{hail.pk}"] == carryback.CARRY  # new to the list: as a record starts


def test_a_representative_changes_the_choices_from_tm(client, rep, worked):
    client.force_login(rep)
    url = reverse("enablement:tm_page", args=[worked.primary_id])
    review = text(client.post(url, review_data(worked, {"Storm": carryback.KEEP})))
    response, action = _press(client, review, "change-choices")
    page = text(response)
    assert action == url + "#changes-title" and response.status_code == 200
    assert "<title>Classics Inc. · BC Enablement" in page
    assert _checked(page)[f"choice-tag:{copy_of(Tag, worked, 'Storm').pk}"] == carryback.KEEP


def test_change_the_choices_needs_the_right_to_switch(client, worked):
    data = {**review_data(worked), "step": "change"}
    client.force_login(User.objects.get(username="sam", is_bcp_copy=False))  # BCP Tenant Enablement View only
    assert client.post(reverse("enablement:switch"), data).status_code == 403
    client.force_login(User.objects.get(username="alice", is_bcp_copy=False))
    assert client.post(reverse("enablement:tm_page", args=[worked.primary_id]), data).status_code == 404


@pytest.mark.parametrize(("language", "says"), [
    ("en", ["Users", "Edited here", "<dt>Password</dt><dd>different (not shown)</dd>",
            "<dt>Role</dt><dd>Supervisor</dd>", "<dt>Skill assignments</dt><dd>only here: Web Chat (proficiency: 2)",
            "Users and roles are listed too"]),
    ("de", ["Benutzer", "Hier bearbeitet", "<dt>Passwort</dt><dd>anders (nicht angezeigt)</dd>",
            "<dt>Rolle</dt><dd>Supervisor</dd>",
            "<dt>Skill-Zuweisungen</dt><dd>nur hier: Web Chat (Kompetenzstufe: 2)",
            "Benutzer und Rollen werden ebenfalls aufgeführt"]),
])
def test_a_person_edited_there_is_listed_in_the_readers_language_without_the_password(
        client, on_bcp, language, says):
    andy = User.objects.get(username="andy", is_bcp_copy=True)
    edit_agent(andy, password=NEW_PASSWORD, role=role_of(on_bcp.secondary, SUPERVISOR),
               skills={copy_of(Skill, on_bcp, "Web Chat"): 2})
    alice = User.objects.get(username="alice", is_bcp_copy=True)
    User.objects.filter(pk=alice.pk).update(language=language)
    client.force_login(alice)
    page = text(client.get(reverse("enablement:page")))
    row = page.split(f'data-testid="change-user:{andy.pk}"')[1].split("</tr>")[0]
    table = page.split('data-testid="changes-user"')[1].split("</table>")[0]
    caption, *in_the_row, hint = says
    assert f"<caption>{caption}</caption>" in table and hint in page
    for words in in_the_row:
        assert words in row, words
    for person in User.objects.filter(username="andy"):  # the copy's new hash, the primary's old one
        assert person.password not in page


def test_the_page_costs_the_same_queries_with_more_people_and_roles_changed(bcp_admin, on_bcp):
    bcp = on_bcp.secondary
    edit_agent(User.objects.get(username="andy", is_bcp_copy=True), password=NEW_PASSWORD)
    bcp_admin.get(reverse("enablement:page"))
    with CaptureQueriesEverywhere() as few:
        bcp_admin.get(reverse("enablement:page"))
    edit_agent(User.objects.get(username="sam", is_bcp_copy=True), password=NEW_PASSWORD,
               role=role_of(bcp, AGENT))
    for index in range(3):
        cc.agent_create(tenant=bcp, username=f"storm{index}", password=NEW_PASSWORD, role=role_of(bcp, AGENT),
                        skills={copy_of(Skill, on_bcp, "Web Chat"): index + 1}, actor=Actor.system())
    role_set_permissions(role=role_of(bcp, SUPERVISOR), permissions=[CHANGE_BCP_ENABLEMENT], scope=SCOPE,
                         actor=Actor.system())
    with CaptureQueriesEverywhere() as many:
        page = text(bcp_admin.get(reverse("enablement:page")))
    assert "storm2" in page and 'data-testid="change-role:' in page
    assert len(many) == len(few), [q["sql"] for q in many][:80]


def test_a_person_created_there_is_carried_back_from_the_review(bcp_admin, on_bcp):
    stormy = cc.agent_create(tenant=on_bcp.secondary, username="stormy", password=NEW_PASSWORD,
                             role=role_of(on_bcp.secondary, AGENT), actor=Actor.system())
    review = text(bcp_admin.post(reverse("enablement:switch"), review_data(on_bcp)))
    assert "User “stormy”: created on the primary" in review.split('data-testid="review-carried"')[1]
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', review))
    assert hidden[f"choice-user:{stormy.pk}"] == carryback.CARRY
    done = text(bcp_admin.post(reverse("enablement:switch"), {**hidden, "passkey": PASSKEY, "confirm": "on"},
                               follow=True))
    assert "Carried back to the primary: stormy." in done
    person = User.objects.get(tenant_id=on_bcp.primary_id, username="stormy")
    assert person.check_password(NEW_PASSWORD) and not person.is_bcp_copy
