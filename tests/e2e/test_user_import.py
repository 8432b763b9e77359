"""The administrator imports users from a CSV file: a bad row blocks the import, the corrected file goes in."""

from accounts.models import User
from audit.services import Actor
from contactcenter import services
from tests.e2e.conftest import save_screenshot

HEADER = "username,first_name,last_name,email,role,team,skills,active\n"
GOOD = "jane.doe,Jane,Doe,jane@example.com,Agent,Customer Care,\"Billing:2;Chat:5\",yes\n"


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_administrator_fixes_a_bad_row_then_imports_the_file(page, sign_in, accessible, tenant, tenant_admin,
                                                                 password, tmp_path):
    services.team_create(tenant=tenant, name="Customer Care", actor=Actor.system())
    services.skill_create(tenant=tenant, name="Billing", channel="phone", actor=Actor.system())
    services.skill_create(tenant=tenant, name="Chat", channel="chat", actor=Actor.system())
    sign_in(page, "alice", password)
    page.goto("/admin/")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Import users", exact=True).click()
    page.get_by_role("heading", name="Import users", level=1).wait_for()
    assert page.get_by_role("link", name="Download the template (CSV)").is_visible()
    accessible(page, where="Import users")

    bad = _file(tmp_path, "bad.csv", HEADER + GOOD + "li.wei,Li,Wei,,Wizard,,Billing:30,yes\n")
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("heading", name="Preview of bad.csv").wait_for()
    alert = page.get_by_role("alert").filter(has_text="1 of 2 rows has an error")
    alert.wait_for()
    row = page.get_by_test_id("row-error")
    assert row.count() == 1
    assert "Unknown role “Wizard”" in row.inner_text()
    assert "use a whole number from 1" in row.inner_text()
    assert page.get_by_role("button", name="Import 2 users").count() == 0
    accessible(page, where="Import preview with errors")
    save_screenshot(page, "users-import-errors.png")

    good = _file(tmp_path, "good.csv", HEADER + GOOD + "li.wei,Li,Wei,,Agent,,Billing:3,yes\n")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("status").filter(has_text="2 users are ready to import").wait_for()
    assert not User.objects.filter(username="jane.doe").exists()
    accessible(page, where="Import preview")
    page.get_by_role("button", name="Import 2 users").click()

    page.get_by_role("heading", name="Users", level=1).wait_for()
    page.get_by_role("status").filter(has_text="2 users were imported").wait_for()
    assert page.get_by_role("link", name="jane.doe", exact=True).count() == 1
    jane = User.objects.get(tenant=tenant, username="jane.doe")
    assert dict(jane.agent_profile.assignments.values_list("skill__name", "proficiency")) == {"Billing": 2, "Chat": 5}
    accessible(page, where="Users after the import")
