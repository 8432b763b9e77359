"""Admin → Import users: preview with per-row errors, all-or-nothing import, bad files, permissions, CSRF."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from audit.services import Actor
from contactcenter import services
from contactcenter.models import AgentProfile, SkillAssignment
from contactcenter.user_import.services import MAX_BYTES, MAX_ROWS, template_csv
from contactcenter.user_import.views import SESSION_KEY
from tests.auditlog import audit_events
from tests.factories import UserFactory, role_of
from tests.permissions import GET, POST, Row, answers, ask, cases

PAGE = "/admin/users/import/"
CONFIRM = "/admin/users/import/confirm/"
TEMPLATE = "/admin/users/import/template.csv"
HEADER = "username,first_name,last_name,email,role,team,skills,active\n"


@pytest.fixture
def setup(tenant):
    """The team and skills the rows refer to."""
    team = services.team_create(tenant=tenant, name="Customer Care", actor=Actor.system())
    billing = services.skill_create(tenant=tenant, name="Billing Inquiries", channel="phone", actor=Actor.system())
    chat = services.skill_create(tenant=tenant, name="Web Chat Support", channel="chat", actor=Actor.system())
    return {"team": team, "billing": billing, "chat": chat}


def upload(content, name="users.csv"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return SimpleUploadedFile(name, content, content_type="text/csv")


def good_csv(count=3) -> str:
    lines = [f"user{n:03d},First{n},Last{n},user{n:03d}@example.com,Agent,Customer Care,"
             f"\"Billing Inquiries:{n % 20 + 1};Web Chat Support:5\",yes\n" for n in range(count)]
    return HEADER + "".join(lines)


def preview(client, content, name="users.csv"):
    return client.post(PAGE, {"file": upload(content, name)})


def token_of(client) -> str:
    return client.session[SESSION_KEY]["token"]


@pytest.fixture
def admin_client(client, tenant_admin):
    client.force_login(tenant_admin)
    return client


# --- the happy path -------------------------------------------------------------------------------

def test_it_shows_the_format_and_offers_a_template(admin_client, setup):
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    for column in ("username", "role", "skills", "active"):
        assert f"<code>{column}</code>" in page
    assert "have no password yet" in page
    template = admin_client.get(TEMPLATE)
    assert template.status_code == 200
    assert template["Content-Type"].startswith("text/csv")
    assert "attachment" in template["Content-Disposition"]
    assert template.content.decode().startswith("username,first_name,last_name,email,role,team,skills,active")


def test_the_template_itself_imports_once_its_team_and_skills_exist(admin_client, tenant, setup):
    services.skill_create(tenant=tenant, name="Account Changes", channel="phone", actor=Actor.system())
    response = preview(admin_client, template_csv())
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response.context["check"].ok


def test_a_good_file_previews_then_imports_every_row(admin_client, tenant, setup):
    response = preview(admin_client, good_csv(3))
    assert response.status_code == 200
    assert "3 users are ready to import" in response.content.decode()
    assert not User.objects.filter(username="user000").exists()  # the preview saves nothing

    response = admin_client.post(CONFIRM, {"token": token_of(admin_client)})
    assert response.status_code == 302
    assert response["Location"] == "/admin/users/"
    users = User.objects.filter(tenant=tenant, username__startswith="user").order_by("username")
    assert [u.username for u in users] == ["user000", "user001", "user002"]
    first = users[0]
    assert first.role == role_of(tenant, "Agent")
    assert first.email == "user000@example.com"
    assert not first.has_usable_password()
    assert first.agent_profile.team == setup["team"]
    assert dict(first.agent_profile.assignments.values_list("skill__name", "proficiency")) == {
        "Billing Inquiries": 1, "Web Chat Support": 5}
    assert SESSION_KEY not in admin_client.session
    # One audit row for the whole import, with the count.
    event = audit_events().get(action="agent.import")
    assert event.changes["count"] == 3
    assert event.tenant_id == tenant.pk

    listing = admin_client.get("/admin/users/")
    assert "3 users were imported" in listing.content.decode()
    for username in ("user000", "user001", "user002"):
        assert username in listing.content.decode()


def test_inactive_rows_and_optional_columns(admin_client, tenant, setup):
    content = "username,role,active\nmax,Agent,no\nmia,Supervisor,\n"
    assert preview(admin_client, content).status_code == 200
    assert admin_client.post(CONFIRM, {"token": token_of(admin_client)}).status_code == 302
    max_ = User.objects.get(tenant=tenant, username="max")
    assert not max_.is_active and not max_.agent_profile.active
    assert User.objects.get(tenant=tenant, username="mia").role.name == "Supervisor"


# --- a file with bad rows imports nothing ---------------------------------------------------------

def test_one_bad_row_shows_each_error_and_imports_nothing(admin_client, tenant, setup, agent):
    content = HEADER + (
        "good.one,Good,One,good@example.com,Agent,Customer Care,Billing Inquiries:3,yes\n"
        "bad.role,Bad,Role,,Wizard,,,\n"
        "bad.team,Bad,Team,,Agent,Night Shift,,\n"
        "bad.skill,Bad,Skill,,Agent,,Juggling:3,\n"
        "bad.level,Bad,Level,,Agent,,Billing Inquiries:21,\n"
        "good.one,Again,Dup,,Agent,,,\n"
        "andy,Taken,Name,,Agent,,,\n"
        ",No,Name,,Agent,,,\n"
        "bad.email,Bad,Email,not-an-email,Agent,,,\n"
        "bad.active,Bad,Active,,Agent,,,maybe\n"
    )
    response = preview(admin_client, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "9 of 10 rows have errors" in page
    for message in ("Unknown role “Wizard”", "Unknown team “Night Shift”", "Unknown skill “Juggling”",
                    "is “21”; use a whole number from 1", "“good.one” is also on line 2",
                    "“andy” is already taken on the platform", "Enter a username.",
                    "“not-an-email” is not a valid email address", "Active must be yes or no"):
        assert message in page, message
    assert "Import 10 users" not in page and "users_import_confirm" not in page
    assert 'action="/admin/users/import/confirm/"' not in page
    assert SESSION_KEY not in admin_client.session
    # The server refuses too, whatever is posted.
    assert admin_client.post(CONFIRM, {"token": "guessed"}).status_code == 400
    assert not User.objects.filter(tenant=tenant, username="good.one").exists()
    assert not audit_events().filter(action="agent.import").exists()


def test_the_import_checks_again_and_imports_nothing_if_the_tenant_changed(admin_client, tenant, setup):
    assert preview(admin_client, good_csv(3)).status_code == 200
    token = token_of(admin_client)
    UserFactory(username="USER001", tenant=tenant, role=role_of(tenant, "Agent"))  # taken meanwhile
    response = admin_client.post(CONFIRM, {"token": token})
    assert response.status_code == 409
    assert "nothing was imported" in response.content.decode()
    assert "already taken" in response.content.decode()
    assert not User.objects.filter(tenant=tenant, username__in=["user000", "user002"]).exists()
    # No agent side was written for a user that was not: every profile of the tenant belongs to a user it has.
    profiles = set(AgentProfile.objects.filter(tenant=tenant).values_list("user_id", flat=True))
    assert profiles <= set(User.objects.filter(tenant=tenant).values_list("pk", flat=True))


def test_a_token_cannot_be_used_twice(admin_client, tenant, setup):
    preview(admin_client, good_csv(2))
    token = token_of(admin_client)
    assert admin_client.post(CONFIRM, {"token": token}).status_code == 302
    response = admin_client.post(CONFIRM, {"token": token})
    assert response.status_code == 400
    assert "Upload the file again" in response.content.decode()
    assert User.objects.filter(tenant=tenant, username__startswith="user").count() == 2


# --- bad files: 4xx with a message, never a 500 ---------------------------------------------------

@pytest.mark.parametrize(("content", "message"), [
    (b"", "The file is empty"),
    (b"   \n\n", "The file is empty"),
    (b"username,first_name\nbob,Bob\n", "role is missing"),
    (b"name;role\nbob;Agent\n", "separated by semicolons"),
    (b"username,role,password\nbob,Agent,secret\n", "Unknown column: password"),
    (b"username,role\n", "has a header but no users"),
    ("username,role,first_name\nj\u00fcrgen,Agent,J\u00fcrgen\n".encode("latin-1"), "not UTF-8"),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb2\x9c", "not UTF-8"),
    (b"username,role\nbob,Agent\x00\x00\n", "does not look like a CSV"),
    (b'username,role\n"bob,Agent\n', "does not look like a CSV"),
    (b"username,role,role\nbob,Agent,Agent\n", "appears twice"),
], ids=["empty", "blank", "missing-column", "semicolons", "unknown-column", "no-rows", "latin-1", "xlsx", "nul",
        "bad-quote", "doubled-column"])
def test_a_bad_file_is_a_400_with_its_message(admin_client, setup, content, message):
    response = preview(admin_client, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert SESSION_KEY not in admin_client.session


def test_a_post_without_a_file_asks_for_one(admin_client, setup):
    response = admin_client.post(PAGE, {})
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in response.content.decode()


def test_a_row_with_a_missing_field_is_reported(admin_client, setup):
    response = preview(admin_client, "username,role,team\nbob,Agent\n")
    assert response.status_code == 400
    assert "This line has 2 fields, the header has 3" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(admin_client, setup):
    response = preview(admin_client, HEADER + "x" * MAX_BYTES)
    assert response.status_code == 400
    assert "larger than 2 MB" in response.content.decode()


def test_a_file_over_the_row_limit_is_refused(admin_client, setup):
    rows = "".join(f"u{n},Agent\n" for n in range(MAX_ROWS + 1))
    response = preview(admin_client, "username,role\n" + rows)
    assert response.status_code == 400
    assert f"at most {MAX_ROWS:,}".replace(",", "") in response.content.decode().replace(",", "")


def test_a_byte_order_mark_and_windows_line_ends_are_fine(admin_client, tenant, setup):
    content = "\ufeffusername,role\r\nbob,Agent\r\n".encode()
    assert preview(admin_client, content).status_code == 200


# --- query count does not grow with the rows ------------------------------------------------------

def test_checking_a_file_costs_the_same_queries_for_10_and_1000_rows(admin_client, setup,
                                                                     django_assert_max_num_queries):
    preview(admin_client, good_csv(10))  # warm the session and the menu
    with django_assert_max_num_queries(20):
        assert preview(admin_client, good_csv(1000)).status_code == 200


def test_a_large_import_is_bulk_written(admin_client, tenant, setup, django_assert_max_num_queries):
    preview(admin_client, good_csv(1000))
    # Row by row this would be thousands of queries; SQLite splits each bulk insert by its variable limit.
    with django_assert_max_num_queries(80):
        assert admin_client.post(CONFIRM, {"token": token_of(admin_client)}).status_code == 302
    assert SkillAssignment.objects.filter(tenant=tenant).count() == 2000


# --- permissions and CSRF -------------------------------------------------------------------------

# url name, method; then the answer per persona in the order of PERSONAS: anonymous, agent, supervisor (may look,
# not import), tenant_admin, other_admin (their own tenant's import), rep. The administrators' own imports are
# tested above and below.
URLS = [
    Row("contactcenter:users_import", GET, answers(302, 404, 200, 200, 200, 404)),
    Row("contactcenter:users_import_template", GET, answers(302, 404, 200, 200, 200, 404)),
    Row("contactcenter:users_import", POST, answers(302, 404, 403, None, None, 404)),
    Row("contactcenter:users_import_confirm", POST, answers(302, 404, 403, None, None, 404)),
]


@pytest.mark.parametrize(("row", "persona"), cases(URLS))
def test_every_import_url_for_every_persona(as_persona, setup, row, persona):
    data = {"file": upload(good_csv(2))} if row.name == "contactcenter:users_import" else {"token": "x"}
    response = ask(as_persona(persona), row, persona, data=data if row.method == POST else {})
    if persona == "supervisor" and row.method == GET and row.name == "contactcenter:users_import":
        page = response.content.decode()
        assert "importing users needs the Edit permission" in page
        assert 'type="file"' not in page
    assert not User.objects.filter(username__startswith="user0").exists()


def test_another_tenants_admin_imports_into_their_own_tenant_only(as_persona, tenant, other_tenant, setup):
    """The page has no object in it: another tenant's administrator uses their own tenant's import, where
    this tenant's team and skills do not exist."""
    client = as_persona("other_admin")
    response = client.post(PAGE, {"file": upload(good_csv(1))})
    assert response.status_code == 400
    assert "Unknown team “Customer Care”" in response.content.decode()
    response = client.post(PAGE, {"file": upload("username,role\nbob,Agent\n")})
    assert response.status_code == 200
    client.post(CONFIRM, {"token": client.session[SESSION_KEY]["token"]})
    assert User.objects.get(username="bob").tenant == other_tenant


def test_a_token_from_one_tenant_is_useless_in_another(client, tenant, other_tenant, setup, tenant_admin):
    """The pending file remembers its tenant: a session that changes tenant cannot import it elsewhere."""
    client.force_login(tenant_admin)
    preview(client, "username,role\nbob,Agent\n")
    session = client.session
    session[SESSION_KEY]["tenant"] = str(other_tenant.pk)
    session.save()
    assert client.post(CONFIRM, {"token": token_of(client)}).status_code == 400
    assert not User.objects.filter(username="bob").exists()


def test_csrf_is_required(tenant_admin, setup):
    client = Client(enforce_csrf_checks=True)
    client.force_login(tenant_admin)
    assert client.post(PAGE, {"file": upload(good_csv(1))}).status_code == 403
    assert client.post(CONFIRM, {"token": "x"}).status_code == 403
    assert not User.objects.filter(username="user000").exists()


def test_the_menu_offers_the_import_to_administrators_only(as_persona, setup):
    assert PAGE in as_persona("tenant_admin").get("/admin/users/").content.decode()


def test_the_menu_hides_the_import_from_supervisors(as_persona, setup):
    assert 'href="/admin/users/import/"' not in as_persona("supervisor").get("/admin/users/").content.decode()


def test_a_look_alike_username_is_refused_on_its_row(admin_client, tenant, setup, agent):
    """“ａｎｄｙ” (full-width) is “andy” on the sign-in page; so is “ＢＯＢ” beside “bob” in the same file."""
    content = HEADER + "ａｎｄｙ,Wide,Andy,,Agent,,,\nbob,Bob,One,,Agent,,,\nＢＯＢ,Bob,Two,,Agent,,,\n"
    response = preview(admin_client, content)
    assert response.status_code == 400
    page = response.content.decode()
    assert "“ａｎｄｙ” is already taken on the platform" in page and "“ＢＯＢ” is also on line 3 of this file" in page
    assert not User.objects.filter(tenant=tenant, username__in=["ａｎｄｙ", "bob", "ＢＯＢ"]).exists()
