"""What the boundary test found beyond issue 15's six, each pinned where it was fixed."""

from django.urls import reverse

from contactcenter.forms import DispositionForm
from continuity.plan.forms import SettingsForm


def test_the_audit_log_up_to_the_last_day_there_is_lists_everything(client, rep):
    client.force_login(rep)
    response = client.get(reverse("audit:list"), {"day_to": "9999-12-31"})
    assert response.status_code == 200  # the day after it overflowed: 500


def test_an_id_past_64_bits_in_a_multiple_choice_is_no_choice(tenant, tenant_admin):
    """Django sends the ids to the database in one IN (...): SQLite overflowed and PostgreSQL refused the number."""
    too_big = str(2**63)
    disposition = DispositionForm({"name": "Resolved", "classification": "resolved", "skills": [too_big]},
                                  tenant=tenant)
    assert not disposition.is_valid() and too_big in disposition.errors["skills"][0]
    settings = SettingsForm({"drill_every_months": "3", "owners": [too_big]}, tenant=tenant)
    assert not settings.is_valid()
    assert settings.errors["owners"] == ["Choose the plan's owners from the people of this tenant."]
