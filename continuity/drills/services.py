"""Every write of plan validation: drills and their follow-up actions, starting a rehearsal, and the drills
recorded from real switches. A rehearsal is completed by rehearsal_completion, from the task it enqueues.

Services take who acts as an `Actor`; only views build one from a request. Tasks take ids and call these.
"""

import logging
import time
from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from bcp_project import regions
from bcp_project.celery import BROKER_ERRORS
from bcp_project.exceptions import ApplicationError
from bcp_project.health import check_broker
from bcp_project.regions import CONTROL, alias_for_tenant
from bcp_project.regions.transactions import tenant_atomic, tenant_transaction
from bcp_project.texts import message_data
from enablement.models import Switch
from enablement.selectors import readiness, switch_ended_by, switch_revert_of, switches_to_bcp
from enablement.services import EnablementError, passkey_verify, tenant_switch
from sync.models import SyncRun
from sync.services import SyncError, sync_run_request
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping, Tenant

from ..models import Drill, FollowUpAction
from ..plan.selectors import tenant_people
from .rehearsal_completion import elapsed_seconds, rehearsal_complete
from .tasks import complete_rehearsal

logger = logging.getLogger(__name__)

# The kinds a person records; rehearsals and real switches are recorded by the system.
RECORDED_KINDS = (Drill.Kind.TABLETOP, Drill.Kind.OTHER)
SYSTEM_KINDS = (Drill.Kind.REHEARSAL, Drill.Kind.SWITCH)
DRILL_FIELDS = ("kind", "held_on", "scenario", "participants", "outcome", "findings")
# What a person may still change on a drill the system recorded: the notes, not the measurements.
SYSTEM_DRILL_FIELDS = ("participants", "findings")
TEXT_MAX = 5000


class DrillError(ApplicationError):
    pass


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


# --- drills and follow-up actions ---------------------------------------------------------------------------


def _check_drill(*, kind: str, held_on: date, scenario: str, outcome: str, today: date) -> None:
    if kind not in RECORDED_KINDS:
        raise DrillError(_("Choose the kind of exercise from the list. Rehearsals are started with Rehearse, and "
                           "real switches are recorded by themselves."), field="kind")
    if outcome not in Drill.Outcome.values or outcome == Drill.Outcome.PENDING:
        raise DrillError(_("Choose the outcome from the list."), field="outcome")
    if not scenario.strip():
        raise DrillError(_("Describe the scenario that was exercised."), field="scenario")
    if held_on > today:
        raise DrillError(_("A drill is recorded once it has been held: choose today or an earlier date."),
                         field="held_on")


def _check_action(*, tenant: Tenant, description: str, owner, due_on: date | None) -> None:
    if not description.strip():
        raise DrillError(_("Say what has to be done."), field="description")
    if owner is not None and not tenant_people(tenant=tenant).filter(pk=owner.pk).exists():
        raise DrillError(_("Choose the owner from the people of this tenant."), field="owner")
    if due_on is None:
        raise DrillError(_("Choose by when it has to be done."), field="due_on")


def _action_record(action: FollowUpAction) -> dict:
    return {"description": action.description, "owner": action.owner.get_username() if action.owner else "",
            "due_on": action.due_on.isoformat(), "done_on": action.done_on.isoformat() if action.done_on else None}


@tenant_atomic
def drill_create(*, tenant: Tenant, actor: Actor, kind: str, held_on: date, scenario: str, participants: str = "",
                 outcome: str, findings: str = "", actions: list[dict] = ()) -> Drill:
    """Records an exercise that was held, with its follow-up actions ({"description", "owner", "due_on"})."""
    _check_drill(kind=kind, held_on=held_on, scenario=scenario, outcome=outcome, today=timezone.localdate())
    for action in actions:
        _check_action(tenant=tenant, **action)
    drill = Drill.objects.create(tenant=tenant, kind=kind, held_on=held_on, scenario=scenario.strip(),
                                 participants=participants.strip(), outcome=outcome, findings=findings.strip(),
                                 recorded_by=actor.user)
    made = [FollowUpAction.objects.create(tenant=tenant, drill=drill, description=a["description"].strip(),
                                          owner=a["owner"], due_on=a["due_on"]) for a in actions]
    audit_record(action="continuity.drill_create", by=actor, tenant=tenant, obj=drill,
                 changes={**{name: _text(getattr(drill, name)) for name in DRILL_FIELDS},
                          "actions": [_action_record(a) for a in made]})
    return drill


@tenant_atomic
def drill_update(*, drill: Drill, actor: Actor, **values) -> Drill:
    """Changes what was recorded. On a rehearsal or a real switch only the participants and findings change."""
    drill = Drill.objects.select_for_update().get(pk=drill.pk)
    allowed = SYSTEM_DRILL_FIELDS if drill.kind in SYSTEM_KINDS else DRILL_FIELDS
    unknown = set(values) - set(allowed)
    if unknown:
        raise DrillError(_("What a rehearsal or a switch measured cannot be changed; add your notes under "
                           "Findings."))
    new = {name: getattr(drill, name) for name in DRILL_FIELDS} | values
    if drill.kind not in SYSTEM_KINDS:
        _check_drill(kind=new["kind"], held_on=new["held_on"], scenario=new["scenario"], outcome=new["outcome"],
                     today=timezone.localdate())
    changes = {}
    for name, value in values.items():
        value = value.strip() if isinstance(value, str) else value
        if getattr(drill, name) != value:
            changes[name] = [_text(getattr(drill, name)), _text(value)]
            setattr(drill, name, value)
    if changes:
        drill.save()
        audit_record(action="continuity.drill_update", by=actor, tenant=drill.tenant, obj=drill, changes=changes)
    return drill


@tenant_atomic
def drill_action_create(*, drill: Drill, actor: Actor, description: str, owner, due_on: date) -> FollowUpAction:
    _check_action(tenant=drill.tenant, description=description, owner=owner, due_on=due_on)
    action = FollowUpAction.objects.create(tenant=drill.tenant, drill=drill, description=description.strip(),
                                           owner=owner, due_on=due_on)
    audit_record(action="continuity.drill_action_create", by=actor, tenant=drill.tenant, obj=action,
                 changes={"drill": drill.pk, **_action_record(action)})
    return action


@tenant_atomic
def drill_action_update(*, action: FollowUpAction, actor: Actor, description: str, owner,
                        due_on: date) -> FollowUpAction:
    _check_action(tenant=action.tenant, description=description, owner=owner, due_on=due_on)
    action = FollowUpAction.objects.select_for_update(of=("self",)).prefetch_related("owner").get(pk=action.pk)
    before = _action_record(action)
    action.description, action.owner, action.due_on = description.strip(), owner, due_on
    after = _action_record(action)
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changes:
        action.save()
        audit_record(action="continuity.drill_action_update", by=actor, tenant=action.tenant, obj=action,
                     changes={"drill": action.drill_id, **changes})
    return action


@tenant_atomic
def drill_action_done(*, action: FollowUpAction, actor: Actor, done: bool = True,
                      today: date | None = None) -> FollowUpAction:
    """Marks the action done today (or open again)."""
    action = FollowUpAction.objects.select_for_update().get(pk=action.pk)
    done_on = (today or timezone.localdate()) if done else None
    if (action.done_on is None) == (done_on is None):
        return action  # already so: nothing to record
    action.done_on = done_on
    action.save(update_fields=["done_on"])
    audit_record(action="continuity.drill_action_done" if done else "continuity.drill_action_reopen", by=actor,
                 tenant=action.tenant, obj=action,
                 changes={"drill": action.drill_id, "done_on": done_on.isoformat() if done_on else None})
    return action


@tenant_atomic
def drill_action_delete(*, action: FollowUpAction, actor: Actor) -> None:
    record = {"drill": action.drill_id, **_action_record(action)}
    deleted, _rows = FollowUpAction.objects.filter(pk=action.pk).delete()
    if deleted:
        audit_record(action="continuity.drill_action_delete", by=actor, tenant=action.tenant, obj=action,
                     changes=record)


# --- rehearsals ---------------------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside the dry-run switch's transaction so that everything it did is rolled back."""


def _check_rows(state) -> list[dict]:
    # The sentence as its message id and parameters too, so that each reader gets it in their language.
    return [{"key": c.key, "ok": c.ok, "text": str(c.text), "message": message_data(c.text), "blocking": c.blocking,
             "needs_reason": c.needs_reason} for c in state.checks
            if not c.reason]  # a reason to switch is no condition a rehearsal tests


def _dry_run_switch(*, mapping: BcpMapping, passkey: str, actor: Actor) -> dict:
    """Times tenant_switch to the BCP tenant, for real, inside a transaction that is then rolled back: the flip,
    the epoch, the audit row and the passkey attempt go with it, and the on-commit work (routing cache, emails,
    the tenant_switched signal) is discarded with its savepoint, so nothing of it reaches anyone."""
    started = time.perf_counter()
    outcome = {}
    try:
        with transaction.atomic(using=CONTROL):
            try:
                tenant_switch(mapping=mapping, to_side=BcpMapping.Side.SECONDARY, passkey=passkey, actor=actor,
                              force=True, reason="rehearsal: dry run, rolled back")
                outcome = {"ms": round((time.perf_counter() - started) * 1000, 1)}
            except EnablementError as exc:
                outcome = {"refused": str(exc.message), "refused_message": message_data(exc.message)}
            raise _DryRun
    except _DryRun:
        pass
    return outcome


def rehearse(*, tenant: Tenant, passkey: str, actor: Actor) -> Drill:
    """A switch rehearsal that moves no traffic. The passkey is checked (and counts towards the throttle, kept
    even when the rest fails, so this is not one transaction), every readiness check is run, the RPO a switch
    would have had now is recorded, the switch itself is timed in a dry run that is rolled back, and a sync is
    started; the Drill stays "In progress" until the task sees that sync end (rehearsal_complete)."""
    mapping = mapping_for_tenant(tenant=tenant, side=BcpMapping.Side.PRIMARY)
    if mapping is None:
        raise DrillError(_("Rehearsals need a BCP tenant. Your account representative maps one in Tenant "
                           "Management first."))
    if mapping.active_side != BcpMapping.Side.PRIMARY:
        raise DrillError(_("The BCP tenant is active, so there is nothing to rehearse: switch back to the primary "
                           "on BC Enablement first."))
    if actor.user is None:
        raise DrillError(_("A rehearsal is started by a person, who enters the passkey."))
    if not check_broker()[0]:
        # Refused before anything is done: a rehearsal is its sync and the task that waits for it.
        raise DrillError(_("The task queue does not answer right now, so a rehearsal could not run its sync. "
                           "Nothing was checked or recorded and the passkey was not tried: try again in a few "
                           "minutes."))
    passkey_verify(mapping=mapping, passkey=passkey, actor=actor, purpose="rehearsal")

    now = timezone.now()
    state = readiness(mapping=mapping, now=now)
    last = state.last_success
    report = {
        "started_at": now.isoformat(),
        "primary": mapping.primary.name,
        "bcp": mapping.secondary.name,
        "checks": _check_rows(state),
        "rpo_before_seconds": round((now - last.started_at).total_seconds(), 1) if last else None,
        "last_success_started_at": last.started_at.isoformat() if last else None,
        "switch": _dry_run_switch(mapping=mapping, passkey=passkey, actor=actor),
        "sync": None,
        "findings": [],
    }
    with tenant_transaction(tenant):
        run = state.active_run
        if run is None:
            try:
                run = sync_run_request(tenant=tenant, actor=actor, trigger=SyncRun.Trigger.MANUAL)
            except SyncError as exc:
                # A run that started since the checks is as good as ours; anything else means no sync.
                run = SyncRun.objects.filter(mapping=mapping, status__in=SyncRun.ACTIVE).first()
                report["findings"].append({"code": "sync_already_running"} if run else
                                          {"code": "sync_not_started", "text": str(exc.message),
                                           "message": message_data(exc.message)})
        else:
            report["findings"].append({"code": "sync_already_running"})
        report["sync"] = {"run_id": run.pk} if run else None
        drill = Drill.objects.create(
            tenant=tenant, kind=Drill.Kind.REHEARSAL, held_on=timezone.localdate(now), outcome=Drill.Outcome.PENDING,
            scenario=f"Rehearsal of the switch to {mapping.secondary.name} (no traffic moved)",
            participants=actor.name, recorded_by=actor.user, report=report)
        audit_record(action="continuity.drill_rehearse", by=actor, tenant=tenant, obj=drill,
                     changes={"sync_run": run.pk if run else None, "checks_failed": [c["key"] for c in report["checks"]
                                                                                   if not c["ok"]],
                              "switch": report["switch"]})
        drill_id = drill.pk
        if run is None:
            rehearsal_complete(drill_id=drill_id, region=alias_for_tenant(tenant), now=now)
            drill.refresh_from_db()
        else:
            alias = alias_for_tenant(tenant)
            transaction.on_commit(lambda: _enqueue_completion(drill_id, alias), using=alias)
    return drill


def _enqueue_completion(drill_id: int, region: str) -> None:
    try:
        complete_rehearsal.delay(drill_id, region)
    except BROKER_ERRORS as exc:  # the queue went down since the check: the daily task completes it
        logger.warning("rehearsal %s is recorded, but the task queue did not answer (%s: %s); the daily task "
                       "completes it", drill_id, type(exc).__name__, exc)


# --- real switches, from enablement's record of them ---------------------------------------------------------


def switch_drill_record(*, revert: Switch) -> Drill | None:
    """The switch to the BCP tenant that `revert` (a switch back to the primary) ended, recorded once as a Drill
    of the primary: when it was switched, the first sign-in on the BCP tenant after it (how long people were
    without a tenant), when it was reverted, who did both and whether it was forced. The drill points at the
    switch's audit row, which is what makes it recorded once."""
    switch = switch_ended_by(revert=revert)
    if switch is None or Drill.objects.filter(switch_event_id=switch.audit_event_id).exists():
        return None
    mapping, tenant = switch.mapping, switch.primary
    first_sign_in = None
    if mapping is not None:
        first_sign_in = (AuditEvent.objects.filter(action="auth.sign_in", tenant=mapping.secondary,
                                                   created_at__gte=switch.at, created_at__lte=revert.at)
                         .order_by("created_at", "pk").first())
    forced = list(switch.switched_anyway or [])
    findings = []
    if first_sign_in is None:
        findings.append({"code": "no_sign_in"})
    if forced:
        findings.append({"code": "forced", "checks": forced, "reason": switch.reason})
    report = {
        "bcp": mapping.secondary.name if mapping else "",
        "primary": tenant.name,
        "switched_at": switch.at.isoformat(),
        "switched_by": switch.by_name, "switched_acting_as": switch.acting_as,
        "on_behalf": switch.on_behalf,
        "forced": bool(forced), "forced_checks": forced, "reason": switch.reason,
        "first_sign_in_at": first_sign_in.created_at.isoformat() if first_sign_in else None,
        "first_sign_in_by": first_sign_in.actor_name if first_sign_in else "",
        "seconds_to_first_sign_in": (elapsed_seconds(switch.at, first_sign_in.created_at)
                                     if first_sign_in else None),
        "reverted_at": revert.at.isoformat(),
        "reverted_by": revert.by_name, "reverted_acting_as": revert.acting_as,
        "seconds_on_bcp": elapsed_seconds(switch.at, revert.at),
        "revert_event": revert.audit_event_id,
        "findings": findings,
    }
    try:
        with tenant_transaction(tenant):
            drill = Drill.objects.create(
                tenant=tenant, kind=Drill.Kind.SWITCH, held_on=timezone.localdate(switch.at),
                scenario=f"Real switch to {report['bcp'] or 'the BCP tenant'} and back",
                participants=", ".join(dict.fromkeys(n for n in (switch.by_name, revert.by_name) if n)),
                outcome=Drill.Outcome.PARTIAL if findings else Drill.Outcome.PASSED, report=report,
                switch_event_id=switch.audit_event_id)
            audit_record(action="continuity.drill_switch_record", by=Actor.system(), tenant=tenant, obj=drill,
                         changes={"switch_event": switch.audit_event_id, "revert_event": revert.audit_event_id,
                                  "seconds_to_first_sign_in": report["seconds_to_first_sign_in"],
                                  "seconds_on_bcp": report["seconds_on_bcp"]})
    except IntegrityError:
        return None  # recorded at the same moment by the signal or the daily scan
    return drill


def switch_drills_catch_up() -> list[Drill]:
    """Every switch-and-revert pair enablement recorded that has no drill yet is recorded (a missed signal, a
    worker that was down). Running it again records nothing."""
    # Drills are in the regions' databases, switches in the control plane: the recorded ones are read per region.
    recorded = set()
    for alias in regions.aliases():
        recorded.update(Drill.objects.using(alias).filter(switch_event__isnull=False)
                        .values_list("switch_event_id", flat=True))
    made = []
    for switch in switches_to_bcp().iterator(chunk_size=500):
        if switch.audit_event_id in recorded:
            continue
        revert = switch_revert_of(switch=switch)
        if revert is None:
            continue  # still on the BCP tenant
        drill = switch_drill_record(revert=revert)
        if drill is not None:
            made.append(drill)
    return made
