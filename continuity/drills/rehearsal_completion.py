"""A rehearsal's second half: once its sync run has ended (or the wait is over), what the run showed becomes the
drill's report and outcome. The task that services.rehearse enqueues calls this, and so does the daily job for a
rehearsal whose task was lost."""

from datetime import datetime, timedelta

from django.utils import timezone

from audit.services import Actor, audit_record
from bcp_project import regions
from bcp_project.regions.transactions import tenant_atomic
from sync.models import SyncRun
from tenants.bcp.selectors import mapping_for_tenant
from tenants.models import BcpMapping

from ..models import Drill

# A rehearsal waits this long for its sync; then it is completed with the finding "the sync did not finish".
REHEARSAL_TIMEOUT = timedelta(minutes=10)
# How often the task looks at the rehearsal's sync run.
REHEARSAL_POLL_SECONDS = 2


def elapsed_seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 1) if start and end else None


@tenant_atomic
def rehearsal_complete(*, drill_id: int, region: str, now: datetime | None = None) -> bool:
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
    # The pair's runs are in the backup's region.
    mapping = mapping_for_tenant(tenant=drill.tenant_id, side=BcpMapping.Side.PRIMARY)
    run = (SyncRun.objects.filter(mapping=mapping, pk=sync["run_id"]).first()
           if sync.get("run_id") and mapping is not None else None)
    timed_out = now >= started + REHEARSAL_TIMEOUT
    if run is not None and run.is_active and not timed_out:
        return False

    findings = [f for f in report.get("findings", []) if f["code"] in ("sync_not_started", "sync_already_running")]
    findings += [{"code": "check_failed", "key": c["key"], "text": c["text"], "message": c.get("message")}
                 for c in report["checks"] if not c["ok"]]
    if "refused" in report.get("switch", {}):
        findings.append({"code": "switch_refused", "text": report["switch"]["refused"],
                         "message": report["switch"].get("refused_message")})
    outcome = Drill.Outcome.PASSED
    if run is None:
        outcome = Drill.Outcome.FAILED
    else:
        sync.update(status=run.status, duration_seconds=elapsed_seconds(run.started_at, run.finished_at),
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
                  rpo_after_seconds=elapsed_seconds(last.started_at, now) if last else None)
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
    for alias in regions.aliases():
        pending = Drill.objects.using(alias).filter(kind=Drill.Kind.REHEARSAL, outcome=Drill.Outcome.PENDING,
                                                    created_at__lt=now - REHEARSAL_TIMEOUT)
        for drill_id, report in pending.values_list("pk", "report"):
            if report.get("started_at") and rehearsal_complete(drill_id=drill_id, region=alias, now=now):
                done.append(drill_id)
    return done
