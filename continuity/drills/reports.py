"""A rehearsal's or a real switch's report, as a reader sees it: what the system measured (Drill.report, stored
as keys and numbers) in sentences of the reader's language."""

from datetime import datetime

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bcp_project.texts import message_render
from sync.messages import skip_text
from sync.models import SyncRun

from ..models import Drill

CHECK_LABELS = {
    "mapping": _("Mapping valid"),
    "passkey": _("Passkey set"),
    "sync_enabled": _("Sync enabled"),
    "sync_fresh": _("Last sync in time"),
    "sync_idle": _("No sync running"),
    "switch_back": _("Someone can switch back"),
    "users": _("Users copied"),
    "bcp_region": _("BCP tenant's region answering"),
    "bcp_status": _("No outage reported for the BCP tenant"),
}


def describe_seconds(seconds) -> str:
    """A duration as people say it: "1.4 s", "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h"."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return _("%(seconds)s s") % {"seconds": number_format(seconds, 1)}
    whole = int(round(seconds))
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if whole < 120:
        return _("%(seconds)s s") % {"seconds": whole}
    if hours == 0 and days == 0:
        return _("%(minutes)d min %(seconds)d s") % {"minutes": minutes, "seconds": secs}
    if days == 0:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def _when(iso):
    return datetime.fromisoformat(iso) if iso else None


def _text(stored: dict) -> str:
    """A stored sentence in the reader's language; a report written before sentences were stored as messages
    keeps the text it has."""
    return message_render(stored.get("message") or stored.get("text", ""))


def _finding(finding: dict) -> str:
    code = finding.get("code")
    if code == "check_failed":
        label = CHECK_LABELS.get(finding.get("key"), finding.get("key"))
        return _("Readiness check not met (%(check)s): %(text)s") % {"check": label, "text": _text(finding)}
    if code == "sync_not_started":
        return _("No sync could be started: %(text)s") % {"text": _text(finding)}
    if code == "sync_already_running":
        return _("A sync was already running, so the rehearsal waited for that one instead of starting its own.")
    if code == "sync_timeout":
        return _("The sync did not finish within %(minutes)d minutes.") % {"minutes": finding.get("minutes", 10)}
    if code == "sync_failed":
        count = finding.get("errors", 0)
        return ngettext("The sync failed, with %(count)d error: see the sync run.",
                        "The sync failed, with %(count)d errors: see the sync run.", count) % {"count": count}
    if code == "sync_skipped":
        return _("The sync was skipped: %(reason)s") % {"reason": skip_text(finding.get("reason", ""))}
    if code == "switch_refused":
        return _("The switch would have been refused: %(text)s") % {"text": _text(finding)}
    if code == "no_sign_in":
        return _("Nobody signed in on the BCP tenant before the switch back.")
    if code == "forced":
        labels = ", ".join(str(CHECK_LABELS.get(key, key)) for key in finding.get("checks", []))
        return _("The switch was made anyway, with these checks not met: %(checks)s. Reason given: “%(reason)s”.") % {
            "checks": labels, "reason": finding.get("reason", "")}
    return code or ""


def _who(name: str, acting_as: str) -> str:
    if acting_as:
        return _("%(name)s (%(acting_as)s)") % {"name": name, "acting_as": acting_as}
    return name or _("system")


def report_of(drill: Drill) -> dict | None:
    """What a rehearsal or a real switch measured, in sentences of the reader's language; None for the other
    kinds, whose record is what people wrote."""
    report = drill.report or {}
    if drill.kind == Drill.Kind.REHEARSAL and report:
        sync = report.get("sync") or {}
        switch = report.get("switch") or {}
        status = sync.get("status")
        return {
            "kind": "rehearsal",
            "pending": drill.outcome == Drill.Outcome.PENDING,
            "bcp": report.get("bcp", ""),
            "started_at": _when(report.get("started_at")),
            "completed_at": _when(report.get("completed_at")),
            "checks": [{"key": c["key"], "label": CHECK_LABELS.get(c["key"], c["key"]), "ok": c["ok"],
                        "text": _text(c)} for c in report.get("checks", [])],
            "rpo_before": describe_seconds(report.get("rpo_before_seconds")),
            "never_synced": report.get("rpo_before_seconds") is None,
            "rpo_after": describe_seconds(report.get("rpo_after_seconds")),
            "switch_ms": number_format(switch["ms"], 0) if "ms" in switch else None,
            "switch_refused": message_render(switch.get("refused_message") or switch.get("refused", "")),
            "sync_run_id": sync.get("run_id"),
            "sync_status": status,
            "sync_status_label": SyncRun.Status(status).label if status in SyncRun.Status.values else "",
            "sync_duration": describe_seconds(sync.get("duration_seconds")),
            "sync_totals": sync.get("totals") or {},
            "findings": [_finding(f) for f in report.get("findings", [])],
        }
    if drill.kind == Drill.Kind.SWITCH and report:
        return {
            "kind": "switch",
            "bcp": report.get("bcp", ""),
            "switched_at": _when(report.get("switched_at")),
            "switched_by": _who(report.get("switched_by", ""), report.get("switched_acting_as", "")),
            "on_behalf": report.get("on_behalf", False),
            "first_sign_in_at": _when(report.get("first_sign_in_at")),
            "first_sign_in_by": report.get("first_sign_in_by", ""),
            "to_first_sign_in": describe_seconds(report.get("seconds_to_first_sign_in")),
            "reverted_at": _when(report.get("reverted_at")),
            "reverted_by": _who(report.get("reverted_by", ""), report.get("reverted_acting_as", "")),
            "on_bcp": describe_seconds(report.get("seconds_on_bcp")),
            "forced": report.get("forced", False),
            "reason": report.get("reason", ""),
            "findings": [_finding(f) for f in report.get("findings", [])],
        }
    return None
