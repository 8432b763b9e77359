"""Demo: Classics Inc.'s continuity plan, started with the usual content, and two emergency contacts, one of them
not reviewed for months (so the page shows its flag). Idempotent: a tenant that has a plan is left alone."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone, translation

from audit.services import Actor

from .models import EmergencyContact, Plan, PlanTeam
from .plan import services
from .plan.selectors import plan_of


def seed(tenant) -> Plan:
    plan = plan_of(tenant=tenant)
    if plan is not None:
        return plan
    actor = Actor.system()
    with translation.override(settings.LANGUAGE_CODE):
        plan = services.plan_start(tenant=tenant, actor=actor)
    teams = list(PlanTeam.objects.filter(tenant=tenant).order_by("position"))
    contacts = [
        {"name": "Grace Hopper", "role": "Plan coordinator", "team": teams[0], "phone": "+14155550110",
         "email": "grace.hopper@classics.example.com"},
        {"name": "Ken Thompson", "role": "Telephony lead", "team": teams[1] if len(teams) > 1 else None,
         "phone": "+14155550111", "email": "ken.thompson@classics.example.com",
         "last_reviewed": timezone.localdate() - timedelta(days=130)},
    ]
    for values in contacts:
        services.section_item_create(tenant=tenant, section_key=EmergencyContact.ENTITY_TYPE, values=values,
                                     actor=actor)
    plan.refresh_from_db()
    return plan
