"""Every write to the continuity plan and its settings. Views, the demo and tests call these; the sync writes the
BCP copies itself.

Each change runs in one transaction that holds the tenant's Plan row (select_for_update), so two editors never
number the same version: it validates, applies, renumbers the section's positions 1..n, and, when something
really changed, raises the plan's version, writes a PlanVersion and an audit event. A change that changes nothing
writes neither. A removed row leaves a contactcenter.Deletion, so that the sync page's "Changes since the last
sync" lists it.

What a version records (its changes and summary) is worked out in changes.py.
"""

from collections.abc import Callable, Mapping

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions.transactions import tenant_atomic, tenant_transaction
from contactcenter.models import Deletion
from tenants.models import Tenant

from ..models import (
    ActivationTrigger,
    CriticalSystem,
    EmergencyContact,
    Plan,
    PlanTeam,
    PlanVersion,
    Procedure,
    ProcedureStep,
)
from . import starter
from .changes import DOWN, UP, Subject, change_summary, snapshot_changes
from .sections import BY_KEY, Section
from .selectors import plan_snapshot, primary_of, tenant_people


class PlanError(ApplicationError):
    """A change to the plan that cannot be made, with the sentence that says why."""


# The fields an editor sets on each section's rows (model attribute names; links take model instances).
EDITABLE: dict[str, tuple[str, ...]] = {
    CriticalSystem.ENTITY_TYPE: ("name", "failover", "responsible_team", "responsible", "recovery_procedure",
                                 "restoration_procedure", "recovery_time_goal"),
    PlanTeam.ENTITY_TYPE: ("name", "responsibilities"),
    EmergencyContact.ENTITY_TYPE: ("name", "role", "team", "phone", "email", "last_reviewed"),
    Procedure.ENTITY_TYPE: ("name", "kind", "description"),
    ActivationTrigger.ENTITY_TYPE: ("name", "criterion", "action", "procedure", "instructions"),
}
# Links to other rows of the plan: they must belong to the same tenant.
LINKS = {"responsible_team": PlanTeam, "team": PlanTeam, "procedure": Procedure}



# --- the one way a change is made -------------------------------------------------------------------------

def _lock_plan(tenant) -> Plan:
    plan = Plan.objects.select_for_update().filter(tenant=tenant).first()
    if plan is None:
        raise PlanError(_("This tenant has no continuity plan yet. Start the plan first."))
    return plan


def _renumber(items: list) -> None:
    """Positions 1..n in the given order, writing only the rows whose position moves."""
    changed = []
    for index, item in enumerate(items, start=1):
        if item.position != index:
            item.position = index
            changed.append(item)
    if changed:
        type(changed[0]).objects.bulk_update(changed, ["position"])


def _ordered(model, **filters) -> list:
    return list(model.objects.filter(**filters).order_by("position", "id"))


def _record(*, plan: Plan, tenant, actor: Actor, summary: str, changes: list[dict], snapshot: dict) -> PlanVersion:
    plan.version += 1
    plan.save(update_fields=["version", "updated_at"])
    return PlanVersion.objects.create(tenant=tenant, number=plan.version, actor=actor.user, actor_name=actor.name,
                                      summary=summary, changes=changes, snapshot=snapshot)


def _change(*, tenant, actor: Actor, subject: Subject, verb: str, apply: Callable[[], Model | None],
            direction: str = "") -> tuple[Model | None, PlanVersion | None]:
    """Locks the plan, applies the change, and records it if it changed anything. `apply` validates first and
    raises PlanError (the transaction rolls back), then writes and returns the row it is about."""
    with tenant_transaction(tenant):
        plan = _lock_plan(tenant)
        before = plan_snapshot(tenant=tenant)
        obj = apply()
        if obj is not None:
            subject.obj = obj
            subject.name = obj.name
        after = plan_snapshot(tenant=tenant)
        subject_id = subject.obj.pk if subject.obj is not None and verb != "deleted" else None
        changes = snapshot_changes(before, after, subject_id=subject_id, subject_key=subject.section.key)
        if not changes:
            return obj, None
        version = _record(plan=plan, tenant=tenant, actor=actor, changes=changes, snapshot=after,
                          summary=change_summary(verb, subject, changes, direction))
        audit_record(action=f"continuity.{subject.section.key}_{verb}", by=actor, tenant=tenant,
                     obj=subject.obj if verb != "deleted" else None,
                     changes={"version": version.number, "item": subject.name,
                              "fields": sorted({c["field"] for c in changes})})
        return obj, version


# --- validation ---------------------------------------------------------------------------------------------

def _validated(section: Section, *, tenant, values: Mapping, instance=None) -> dict:
    allowed = EDITABLE[section.key]
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"{section.key} has no editable fields {sorted(unknown)}")
    data = dict(values)
    if "name" in data or instance is None:
        name = (data.get("name") or "").strip()
        if not name:
            raise PlanError(_("Enter a name."), field="name")
        taken = section.model.objects.filter(tenant=tenant, name__iexact=name)
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            raise PlanError(_("This plan already has a %(item)s named “%(name)s”. Choose another name.")
                            % {"item": section.model._meta.verbose_name, "name": name}, field="name")
        data["name"] = name
    for field, model in LINKS.items():
        linked = data.get(field)
        if field in data and linked is not None:
            if not isinstance(linked, model) or linked.tenant_id != tenant.pk:
                raise PlanError(_("Choose one of this plan's own entries."), field=field)
            if instance is not None and linked.pk == instance.pk and type(instance) is model:
                raise PlanError(_("Choose another entry."), field=field)
    reviewed = data.get("last_reviewed")
    if reviewed is not None and reviewed > timezone.localdate():
        raise PlanError(_("A review cannot have happened after today: enter the date someone last confirmed these "
                          "details, today at the latest."), field="last_reviewed")
    for field in allowed:
        if field in data and isinstance(data[field], str):
            data[field] = data[field].strip()
    return data


def _full_clean(obj) -> None:
    try:
        obj.full_clean(exclude=["tenant", "position"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise PlanError(messages[0], field=None if field == "__all__" else field) from None


def _section(key: str) -> Section:
    try:
        return BY_KEY[key]
    except KeyError:
        raise ValueError(f"no plan section {key!r}") from None


def _own(section: Section, *, tenant, obj) -> Model:
    """The row, freshly read inside the transaction; a row of another tenant is refused like a missing one."""
    if obj is None or obj.tenant_id != tenant.pk:
        raise PlanError(_("This entry is not part of this plan."))
    fresh = section.model.objects.filter(tenant=tenant, pk=obj.pk).first()
    if fresh is None:
        raise PlanError(_("This entry was removed meanwhile."))
    return fresh


# --- the sections ---------------------------------------------------------------------------------------

def section_item_create(*, tenant, section_key: str, values: Mapping, actor: Actor) -> tuple[Model, PlanVersion]:
    """Adds a row at the end of its section."""
    section = _section(section_key)
    subject = Subject(section)

    def apply():
        data = _validated(section, tenant=tenant, values=values)
        last = section.model.objects.filter(tenant=tenant).count()
        obj = section.model(tenant=tenant, position=last + 1, **data)
        _full_clean(obj)
        obj.save()
        _renumber(_ordered(section.model, tenant=tenant))
        return obj

    return _change(tenant=tenant, actor=actor, subject=subject, verb="created", apply=apply)


def section_item_update(*, tenant, section_key: str, obj: Model, values: Mapping,
                        actor: Actor) -> tuple[Model, PlanVersion | None]:
    """Sets the given fields; returns the version, or None when nothing changed."""
    section = _section(section_key)
    subject = Subject(section, obj=obj, name=obj.name)

    def apply():
        current = _own(section, tenant=tenant, obj=obj)
        subject.name = current.name
        data = _validated(section, tenant=tenant, values=values, instance=current)
        for field, value in data.items():
            setattr(current, field, value)
        _full_clean(current)
        current.save()
        return current

    return _change(tenant=tenant, actor=actor, subject=subject, verb="changed", apply=apply)


def section_item_delete(*, tenant, section_key: str, obj: Model, actor: Actor) -> PlanVersion | None:
    """Removes the row (links to it become empty), renumbers the rest and leaves a tombstone for the sync."""
    section = _section(section_key)
    subject = Subject(section, obj=obj, name=obj.name)

    def apply():
        current = _own(section, tenant=tenant, obj=obj)
        subject.name = current.name
        pk = current.pk
        current.delete()
        Deletion.objects.create(tenant=tenant, entity_type=section.model.ENTITY_TYPE, object_id=pk,
                                natural_key=subject.name)
        _renumber(_ordered(section.model, tenant=tenant))
        return None

    _obj, version = _change(tenant=tenant, actor=actor, subject=subject, verb="deleted", apply=apply)
    return version


def section_item_move(*, tenant, section_key: str, obj: Model, direction: str, actor: Actor) -> PlanVersion | None:
    """One place up or down; the first row moved up (the last down) stays, and no version is written."""
    if direction not in (UP, DOWN):
        raise PlanError(_("Choose up or down."))
    section = _section(section_key)
    subject = Subject(section, obj=obj, name=obj.name)

    def apply():
        current = _own(section, tenant=tenant, obj=obj)
        items = _ordered(section.model, tenant=tenant)
        index = next(i for i, item in enumerate(items) if item.pk == current.pk)
        other = index - 1 if direction == UP else index + 1
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
        _renumber(items)
        return current

    _obj, version = _change(tenant=tenant, actor=actor, subject=subject, verb="moved", apply=apply,
                            direction=direction)
    return version


def contact_mark_reviewed(*, tenant, contact: EmergencyContact, actor: Actor) -> PlanVersion | None:
    """Someone confirmed the contact's details today."""
    return section_item_update(tenant=tenant, section_key=EmergencyContact.ENTITY_TYPE, obj=contact,
                               values={"last_reviewed": timezone.localdate()}, actor=actor)[1]


# --- a procedure's steps ------------------------------------------------------------------------------------

def _step_change(*, tenant, procedure: Procedure, actor: Actor, apply: Callable[[Procedure], None]):
    section = BY_KEY[Procedure.ENTITY_TYPE]
    subject = Subject(section, obj=procedure, name=procedure.name)

    def run():
        current = _own(section, tenant=tenant, obj=procedure)
        apply(current)
        _renumber(_ordered(ProcedureStep, procedure=current))
        return current

    _obj, version = _change(tenant=tenant, actor=actor, subject=subject, verb="changed", apply=run)
    return version


def _step_values(*, tenant, text: str, team) -> tuple[str, PlanTeam | None]:
    text = (text or "").strip()
    if not text:
        raise PlanError(_("Describe what to do in this step."), field="text")
    if team is not None and (not isinstance(team, PlanTeam) or team.tenant_id != tenant.pk):
        raise PlanError(_("Choose one of this plan's own entries."), field="team")
    return text, team


def _own_step(procedure: Procedure, step: ProcedureStep) -> ProcedureStep:
    fresh = ProcedureStep.objects.filter(procedure=procedure, pk=step.pk).first()
    if fresh is None:
        raise PlanError(_("This step is not part of this procedure any more."))
    return fresh


def procedure_step_add(*, tenant, procedure: Procedure, text: str, team: PlanTeam | None = None,
                       actor: Actor) -> PlanVersion | None:
    """Adds a step at the end of the procedure."""
    def apply(current):
        clean_text, clean_team = _step_values(tenant=tenant, text=text, team=team)
        count = ProcedureStep.objects.filter(procedure=current).count()
        ProcedureStep.objects.create(tenant=tenant, procedure=current, position=count + 1, text=clean_text,
                                     team=clean_team)

    return _step_change(tenant=tenant, procedure=procedure, actor=actor, apply=apply)


def procedure_step_update(*, tenant, step: ProcedureStep, text: str, team: PlanTeam | None = None,
                          actor: Actor) -> PlanVersion | None:
    def apply(current):
        fresh = _own_step(current, step)
        fresh.text, fresh.team = _step_values(tenant=tenant, text=text, team=team)
        fresh.save(update_fields=["text", "team"])

    return _step_change(tenant=tenant, procedure=step.procedure, actor=actor, apply=apply)


def procedure_step_remove(*, tenant, step: ProcedureStep, actor: Actor) -> PlanVersion | None:
    def apply(current):
        _own_step(current, step).delete()

    return _step_change(tenant=tenant, procedure=step.procedure, actor=actor, apply=apply)


def procedure_step_move(*, tenant, step: ProcedureStep, direction: str, actor: Actor) -> PlanVersion | None:
    if direction not in (UP, DOWN):
        raise PlanError(_("Choose up or down."))

    def apply(current):
        fresh = _own_step(current, step)
        steps = _ordered(ProcedureStep, procedure=current)
        index = next(i for i, item in enumerate(steps) if item.pk == fresh.pk)
        other = index - 1 if direction == UP else index + 1
        if 0 <= other < len(steps):
            steps[index], steps[other] = steps[other], steps[index]
        _renumber(steps)

    return _step_change(tenant=tenant, procedure=step.procedure, actor=actor, apply=apply)


# --- starting the plan --------------------------------------------------------------------------------------

@tenant_atomic
def plan_start(*, tenant, actor: Actor) -> Plan:
    """The tenant's plan with the starter content in the language of whoever starts it, as version 1."""
    # The tenant's row serialises two people starting the plan at the same moment.
    Tenant.objects.select_for_update().filter(pk=tenant.pk).exists()
    if Plan.objects.filter(tenant=tenant).exists():
        raise PlanError(_("This tenant already has a continuity plan; edit it instead of starting another."))
    existing = [section.model.objects.filter(tenant=tenant).exists() for section in BY_KEY.values()]
    if any(existing):
        # Rows the sync copied to a BCP tenant, or left from before: the starter content would clash with them.
        raise PlanError(_("This tenant already has plan entries (copied by the sync, perhaps), so a new plan "
                          "cannot be started here."))
    plan = Plan.objects.create(tenant=tenant)
    teams = {}
    for position, team in enumerate(starter.teams(), start=1):
        teams[team["key"]] = PlanTeam.objects.create(tenant=tenant, position=position, name=team["name"],
                                                     responsibilities=team["responsibilities"])
    CriticalSystem.objects.bulk_create([
        CriticalSystem(tenant=tenant, position=position, name=system["name"], failover=system["failover"],
                       responsible_team=teams[system["team"]], recovery_procedure=system["recovery"],
                       restoration_procedure=system["restoration"], recovery_time_goal=system["goal"])
        for position, system in enumerate(starter.critical_systems(), start=1)])
    procedures = {}
    for position, item in enumerate(starter.procedures(), start=1):
        procedure = Procedure.objects.create(tenant=tenant, position=position, name=item["name"], kind=item["kind"],
                                             description=item["description"])
        procedures[item["kind"]] = procedure
        ProcedureStep.objects.bulk_create([
            ProcedureStep(tenant=tenant, procedure=procedure, position=number, text=text, team=teams[team])
            for number, (text, team) in enumerate(item["steps"], start=1)])
    ActivationTrigger.objects.bulk_create([
        ActivationTrigger(tenant=tenant, position=position, name=trigger["name"], action=trigger["action"],
                          criterion=trigger["criterion"], instructions=trigger["instructions"],
                          procedure=procedures.get(trigger.get("procedure")))
        for position, trigger in enumerate(starter.triggers(), start=1)])
    snapshot = plan_snapshot(tenant=tenant)
    _record(plan=plan, tenant=tenant, actor=actor, summary=_("Started the plan"), changes=[], snapshot=snapshot)
    audit_record(action="continuity.plan_started", by=actor, tenant=tenant, obj=plan, changes={"version": 1})
    return plan


# --- the plan's settings ------------------------------------------------------------------------------------


@tenant_atomic
def plan_settings_save(*, tenant: Tenant, actor: Actor, drill_every_months: int, owners: list) -> Plan:
    """How often the tenant drills, and who is reminded (nobody chosen: everyone with Continuity Plan: Edit)."""
    primary = primary_of(tenant=tenant)
    if primary is not None:
        raise PlanError(_("This is the BCP tenant of “%(primary)s”: the plan, its owners and its drill schedule "
                          "are kept there. Change them on “%(primary)s”.") % {"primary": primary})
    if drill_every_months not in Plan.DrillFrequency.values:
        raise PlanError(_("Choose how often to drill from the list."), field="drill_every_months")
    people = set(tenant_people(tenant=tenant).filter(pk__in=[o.pk for o in owners]).values_list("pk", flat=True))
    if any(owner.pk not in people for owner in owners):
        raise PlanError(_("Choose the plan's owners from the people of this tenant."), field="owners")
    if not Plan.objects.filter(tenant=tenant).exists():
        plan_start(tenant=tenant, actor=actor)
    plan = Plan.objects.select_for_update().get(tenant=tenant)
    changes = {}
    if plan.drill_every_months != drill_every_months:
        changes["drill_every_months"] = [plan.drill_every_months, drill_every_months]
        plan.drill_every_months = drill_every_months
        plan.save(update_fields=["drill_every_months", "updated_at"])
    before = sorted(plan.owners.values_list("username", flat=True))
    after = sorted(owner.get_username() for owner in owners)
    if before != after:
        plan.owners.set(owners)
        changes["owners"] = [before, after]
    if changes:
        audit_record(action="continuity.settings_change", by=actor, tenant=tenant, obj=plan, changes=changes)
    return plan
