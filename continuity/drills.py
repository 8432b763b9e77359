"""Every write of plan validation: drills and their follow-up actions, the plan's settings, rehearsals, and the
drills recorded from real switches.

Services take who acts as an `Actor`; only views build one from a request. Tasks take ids and call these.
"""

import logging
import time
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import Actor, audit_record
from bcp_project.celery import BROKER_ERRORS
from bcp_project.exceptions import ApplicationError
from bcp_project.health import check_broker
from enablement.selectors import readiness
from enablement.services import EnablementError, passkey_check, tenant_switch
from sync.models import SyncRun
from sync.services import SyncError, sync_run_request
from tenants.models import BcpMapping, Tenant

from .drill_selectors import primary_of, tenant_people
from .models import Drill, FollowUpAction, Plan

logger = logging.getLogger(__name__)

# A rehearsal waits this long for its sync; then it is completed with the finding "the sync did not finish".
REHEARSAL_TIMEOUT = timedelta(minutes=10)
# How often the task looks at the rehearsal's sync run.
REHEARSAL_POLL_SECONDS = 2
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


@transaction.atomic
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


@transaction.atomic
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


@transaction.atomic
def drill_action_create(*, drill: Drill, actor: Actor, description: str, owner, due_on: date) -> FollowUpAction:
    _check_action(tenant=drill.tenant, description=description, owner=owner, due_on=due_on)
    action = FollowUpAction.objects.create(tenant=drill.tenant, drill=drill, description=description.strip(),
                                           owner=owner, due_on=due_on)
    audit_record(action="continuity.drill_action_create", by=actor, tenant=drill.tenant, obj=action,
                 changes={"drill": drill.pk, **_action_record(action)})
    return action


@transaction.atomic
def drill_action_update(*, action: FollowUpAction, actor: Actor, description: str, owner,
                        due_on: date) -> FollowUpAction:
    _check_action(tenant=action.tenant, description=description, owner=owner, due_on=due_on)
    action = FollowUpAction.objects.select_for_update(of=("self",)).select_related("owner").get(pk=action.pk)
    before = _action_record(action)
    action.description, action.owner, action.due_on = description.strip(), owner, due_on
    after = _action_record(action)
    changes = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changes:
        action.save()
        audit_record(action="continuity.drill_action_update", by=actor, tenant=action.tenant, obj=action,
                     changes={"drill": action.drill_id, **changes})
    return action


@transaction.atomic
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


@transaction.atomic
def drill_action_delete(*, action: FollowUpAction, actor: Actor) -> None:
    record = {"drill": action.drill_id, **_action_record(action)}
    deleted, _rows = FollowUpAction.objects.filter(pk=action.pk).delete()
    if deleted:
        audit_record(action="continuity.drill_action_delete", by=actor, tenant=action.tenant, obj=action,
                     changes=record)


# --- the plan's settings ------------------------------------------------------------------------------------


@transaction.atomic
def plan_settings_save(*, tenant: Tenant, actor: Actor, drill_every_months: int, owners: list) -> Plan:
    """How often the tenant drills, and who is reminded (nobody chosen: everyone with Continuity Plan: Edit)."""
    primary = primary_of(tenant=tenant)
    if primary is not None:
        raise DrillError(_("This is the BCP tenant of “%(primary)s”: the plan, its owners and its drill schedule "
                           "are kept there. Change them on “%(primary)s”.") % {"primary": primary})
    if drill_every_months not in Plan.DrillFrequency.values:
        raise DrillError(_("Choose how often to drill from the list."), field="drill_every_months")
    people = set(tenant_people(tenant=tenant).filter(pk__in=[o.pk for o in owners]).values_list("pk", flat=True))
    if any(owner.pk not in people for owner in owners):
        raise DrillError(_("Choose the plan's owners from the people of this tenant."), field="owners")
    if not Plan.objects.filter(tenant=tenant).exists():
        from .services import PlanError, plan_start

        try:
            plan_start(tenant=tenant, actor=actor)
        except PlanError as exc:
            raise DrillError(exc.message) from None
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


# --- rehearsals ---------------------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside the dry-run switch's transaction so that everything it did is rolled back."""


def _check_rows(state) -> list[dict]:
    return [{"key": c.key, "ok": c.ok, "text": str(c.text), "blocking": c.blocking, "needs_reason": c.needs_reason}
            for c in state.checks]


def _dry_run_switch(*, mapping: BcpMapping, passkey: str, actor: Actor) -> dict:
    """Times tenant_switch to the BCP tenant, for real, inside a transaction that is then rolled back: the flip,
    the epoch, the audit row and the passkey attempt go with it, and the on-commit work (routing cache, emails,
    the tenant_switched signal) is discarded with its savepoint, so nothing of it reaches anyone."""
    started = time.perf_counter()
    outcome = {}
    try:
        with transaction.atomic():
            try:
                tenant_switch(mapping=mapping, to_side=BcpMapping.Side.SECONDARY, passkey=passkey, actor=actor,
                              force=True, reason="rehearsal: dry run, rolled back")
                outcome = {"ms": round((time.perf_counter() - started) * 1000, 1)}
            except EnablementError as exc:
                outcome = {"refused": str(exc.message)}
            raise _DryRun
    except _DryRun:
        pass
    return outcome


def rehearse(*, tenant: Tenant, passkey: str, actor: Actor) -> Drill:
    """A switch rehearsal that moves no traffic. The passkey is checked (and counts towards the throttle, kept
    even when the rest fails, so this is not one transaction), every readiness check is run, the RPO a switch
    would have had now is recorded, the switch itself is timed in a dry run that is rolled back, and a sync is
    started; the Drill stays "In progress" until the task sees that sync end (rehearsal_complete)."""
    mapping = (BcpMapping.objects.select_related("primary", "secondary").filter(primary=tenant).first())
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
    passkey_check(mapping=mapping, passkey=passkey, actor=actor, purpose="rehearsal")

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
    with transaction.atomic():
        run = state.active_run
        if run is None:
            try:
                run = sync_run_request(tenant=tenant, actor=actor, trigger=SyncRun.Trigger.MANUAL)
            except SyncError as exc:
                # A run that started since the checks is as good as ours; anything else means no sync.
                run = SyncRun.objects.filter(mapping=mapping, status__in=SyncRun.ACTIVE).first()
                report["findings"].append({"code": "sync_already_running"} if run else
                                          {"code": "sync_not_started", "text": str(exc.message)})
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
            rehearsal_complete(drill_id=drill_id, now=now)
            drill.refresh_from_db()
        else:
            transaction.on_commit(lambda: _enqueue_completion(drill_id))
    return drill


def _enqueue_completion(drill_id: int) -> None:
    from .tasks import complete_rehearsal

    try:
        complete_rehearsal.delay(drill_id)
    except BROKER_ERRORS as exc:  # the queue went down since the check: the daily task completes it
        logger.warning("rehearsal %s is recorded, but the task queue did not answer (%s: %s); the daily task "
                       "completes it", drill_id, type(exc).__name__, exc)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


@transaction.atomic
def rehearsal_complete(*, drill_id: int, now: datetime | None = None) -> bool:
    """Completes a rehearsal once its sync run has ended (or REHEARSAL_TIMEOUT has passed). Returns False while
    it should be asked again later, True once there is nothing left to do (also when it was done already)."""
    drill = (Drill.objects.select_for_update().filter(pk=drill_id, kind=Drill.Kind.REHEARSAL,
                                                      outcome=Drill.Outcome.PENDING).first())
    if drill is None:
        return True
    now = now or timezone.now()
    report = dict(drill.report)
    started = datetime.fromisoformat(report["started_at"])
    sync = report.get("sync") or {}
    run = SyncRun.objects.filter(pk=sync["run_id"]).first() if sync.get("run_id") else None
    timed_out = now >= started + REHEARSAL_TIMEOUT
    if run is not None and run.is_active and not timed_out:
        return False

    findings = [f for f in report.get("findings", []) if f["code"] in ("sync_not_started", "sync_already_running")]
    findings += [{"code": "check_failed", "key": c["key"], "text": c["text"]} for c in report["checks"] if not c["ok"]]
    if "refused" in report.get("switch", {}):
        findings.append({"code": "switch_refused", "text": report["switch"]["refused"]})
    outcome = Drill.Outcome.PASSED
    if run is None:
        outcome = Drill.Outcome.FAILED
    else:
        sync.update(status=run.status, duration_seconds=_seconds(run.started_at, run.finished_at),
                    totals=run.totals, errors=len(run.errors))
        if run.is_active:
            findings.append({"code": "sync_timeout", "minutes": int(REHEARSAL_TIMEOUT.total_seconds() // 60)})
        elif run.status == SyncRun.Status.FAILED:
            findings.append({"code": "sync_failed", "errors": len(run.errors)})
            outcome = Drill.Outcome.FAILED
        elif run.status == SyncRun.Status.SKIPPED:
            findings.append({"code": "sync_skipped", "reason": run.skip_reason})
    last = None
    if run is not None:
        last = (SyncRun.objects.filter(mapping_id=run.mapping_id, status=SyncRun.Status.SUCCEEDED)
                .order_by("-finished_at", "-id").first())
    if outcome == Drill.Outcome.PASSED and findings:
        outcome = Drill.Outcome.PARTIAL
    report.update(sync=sync or None, findings=findings, completed_at=now.isoformat(),
                  rpo_after_seconds=_seconds(last.started_at, now) if last else None)
    drill.report, drill.outcome = report, outcome
    drill.save(update_fields=["report", "outcome", "updated_at"])
    audit_record(action="continuity.drill_rehearsal_complete", by=Actor.system(), tenant=drill.tenant, obj=drill,
                 changes={"outcome": outcome, "findings": [f["code"] for f in findings],
                          "rpo_after_seconds": report["rpo_after_seconds"]})
    return True


def rehearsals_overdue_complete(*, now: datetime | None = None) -> list[int]:
    """Rehearsals whose task was lost (a worker gone, a message dropped) are completed once their time is up."""
    now = now or timezone.now()
    done = []
    for drill_id, report in Drill.objects.filter(kind=Drill.Kind.REHEARSAL, outcome=Drill.Outcome.PENDING,
                                                 created_at__lt=now - REHEARSAL_TIMEOUT).values_list("pk", "report"):
        if report.get("started_at") and rehearsal_complete(drill_id=drill_id, now=now):
            done.append(drill_id)
    return done


# --- real switches, from the audit log ----------------------------------------------------------------------

SWITCH_ACTION = "enablement.switch"
MAPPING_LABEL = "tenants.BcpMapping"


def _switch_events(object_id: str):
    return AuditEvent.objects.filter(action=SWITCH_ACTION, object_type=MAPPING_LABEL, object_id=object_id)


def switch_drill_record(*, revert_event: AuditEvent) -> Drill | None:
    """The switch to the BCP tenant that `revert_event` (an enablement.switch back to the primary) ended,
    recorded once as a Drill of the primary: when it was switched, the first sign-in on the BCP tenant after it
    (how long people were without a tenant), when it was reverted, who did both and whether it was forced."""
    if revert_event.action != SWITCH_ACTION or (revert_event.changes or {}).get("to") != BcpMapping.Side.PRIMARY:
        return None
    switch = (_switch_events(revert_event.object_id).filter(changes__to=BcpMapping.Side.SECONDARY)
              .filter(created_at__lte=revert_event.created_at, pk__lt=revert_event.pk)
              .order_by("-created_at", "-pk").first())
    if switch is None or Drill.objects.filter(switch_event=switch).exists():
        return None
    mapping = BcpMapping.objects.select_related("primary", "secondary").filter(pk=revert_event.object_id).first()
    tenant = mapping.primary if mapping else switch.tenant
    if tenant is None:
        return None
    first_sign_in = None
    if mapping is not None:
        first_sign_in = (AuditEvent.objects.filter(action="auth.sign_in", tenant=mapping.secondary,
                                                   created_at__gte=switch.created_at,
                                                   created_at__lte=revert_event.created_at)
                         .order_by("created_at", "pk").first())
    forced = list(switch.changes.get("switched_anyway") or [])
    findings = []
    if first_sign_in is None:
        findings.append({"code": "no_sign_in"})
    if forced:
        findings.append({"code": "forced", "checks": forced, "reason": switch.changes.get("reason", "")})
    report = {
        "bcp": mapping.secondary.name if mapping else "",
        "primary": tenant.name,
        "switched_at": switch.created_at.isoformat(),
        "switched_by": switch.actor_name, "switched_acting_as": switch.acting_as,
        "on_behalf": bool(switch.changes.get("on_behalf")),
        "forced": bool(forced), "forced_checks": forced, "reason": switch.changes.get("reason", ""),
        "first_sign_in_at": first_sign_in.created_at.isoformat() if first_sign_in else None,
        "first_sign_in_by": first_sign_in.actor_name if first_sign_in else "",
        "seconds_to_first_sign_in": _seconds(switch.created_at, first_sign_in.created_at) if first_sign_in else None,
        "reverted_at": revert_event.created_at.isoformat(),
        "reverted_by": revert_event.actor_name, "reverted_acting_as": revert_event.acting_as,
        "seconds_on_bcp": _seconds(switch.created_at, revert_event.created_at),
        "revert_event": revert_event.pk,
        "findings": findings,
    }
    try:
        with transaction.atomic():
            drill = Drill.objects.create(
                tenant=tenant, kind=Drill.Kind.SWITCH, held_on=timezone.localdate(switch.created_at),
                scenario=f"Real switch to {report['bcp'] or 'the BCP tenant'} and back",
                participants=", ".join(dict.fromkeys(n for n in (switch.actor_name, revert_event.actor_name) if n)),
                outcome=Drill.Outcome.PARTIAL if findings else Drill.Outcome.PASSED, report=report,
                switch_event=switch)
            audit_record(action="continuity.drill_switch_record", by=Actor.system(), tenant=tenant, obj=drill,
                         changes={"switch_event": switch.pk, "revert_event": revert_event.pk,
                                  "seconds_to_first_sign_in": report["seconds_to_first_sign_in"],
                                  "seconds_on_bcp": report["seconds_on_bcp"]})
    except IntegrityError:
        return None  # recorded at the same moment by the signal or the daily scan
    return drill


def switch_drills_catch_up() -> list[Drill]:
    """Every switch-and-revert pair in the audit log that has no drill yet is recorded (a missed signal, a
    worker that was down). Running it again records nothing."""
    recorded = Drill.objects.filter(switch_event__isnull=False).values("switch_event_id")
    made = []
    pending = (AuditEvent.objects.filter(action=SWITCH_ACTION, object_type=MAPPING_LABEL,
                                         changes__to=BcpMapping.Side.SECONDARY)
               .exclude(pk__in=recorded).order_by("created_at", "pk"))
    for switch in pending.iterator(chunk_size=500):
        revert = (_switch_events(switch.object_id).filter(changes__to=BcpMapping.Side.PRIMARY,
                                                         created_at__gte=switch.created_at, pk__gt=switch.pk)
                  .order_by("created_at", "pk").first())
        if revert is None:
            continue  # still on the BCP tenant
        drill = switch_drill_record(revert_event=revert)
        if drill is not None:
            made.append(drill)
    return made
