"""Reading the plan."""


from .models import ActivationTrigger, CriticalSystem, EmergencyContact, Plan, PlanTeam, Procedure
from .sections import SECTIONS


def plan_of(*, tenant) -> Plan | None:
    """The tenant's plan record, or None before anyone started one."""
    return Plan.objects.filter(tenant=tenant).first()


def _text(value) -> str:
    return "" if value is None else str(value)


def plan_snapshot(*, tenant) -> dict:
    """The whole plan as plain JSON: {"sections": {section key: [{"id": pk, "name": …, "values": {field: text}}]}}.
    Values are text as a reader sees them (choices in English keys, dates ISO, links by name); steps are a list
    of {"text", "team"}. A fixed number of queries, however long the plan is."""
    teams = {t.pk: t.name for t in PlanTeam.objects.filter(tenant=tenant)}
    procedures = list(Procedure.objects.filter(tenant=tenant).prefetch_related("steps"))
    names = {p.pk: p.name for p in procedures}
    rows = {
        CriticalSystem.ENTITY_TYPE: [
            (s.pk, s.name, {"failover": s.failover, "responsible_team": teams.get(s.responsible_team_id, ""),
                            "responsible": s.responsible, "recovery_procedure": s.recovery_procedure,
                            "restoration_procedure": s.restoration_procedure,
                            "recovery_time_goal": _text(s.recovery_time_goal)})
            for s in CriticalSystem.objects.filter(tenant=tenant)],
        PlanTeam.ENTITY_TYPE: [(t.pk, t.name, {"responsibilities": t.responsibilities})
                               for t in PlanTeam.objects.filter(tenant=tenant)],
        EmergencyContact.ENTITY_TYPE: [
            (c.pk, c.name, {"role": c.role, "team": teams.get(c.team_id, ""), "phone": c.phone, "email": c.email,
                            "last_reviewed": c.last_reviewed.isoformat()})
            for c in EmergencyContact.objects.filter(tenant=tenant)],
        Procedure.ENTITY_TYPE: [
            (p.pk, p.name, {"kind": p.kind, "description": p.description,
                            "steps": [{"text": s.text, "team": teams.get(s.team_id, "")} for s in p.steps.all()]})
            for p in procedures],
        ActivationTrigger.ENTITY_TYPE: [
            (t.pk, t.name, {"criterion": t.criterion, "action": t.action, "procedure": names.get(t.procedure_id, ""),
                            "instructions": t.instructions})
            for t in ActivationTrigger.objects.filter(tenant=tenant)],
    }
    return {"sections": {section.key: [{"id": pk, "name": name, "values": values}
                                       for pk, name, values in rows[section.key]] for section in SECTIONS}}

