"""Sentences for what a run recorded. Runs keep codes and names; the reader's language is chosen here."""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .engine.registry import BY_KEY


def _item(key: str) -> str:
    entity = BY_KEY.get(key)
    return str(entity.item) if entity else key


def _label(key: str) -> str:
    entity = BY_KEY.get(key)
    return str(entity.label) if entity else key


def error_text(error: dict) -> str:
    code = error.get("code")
    item, name = _item(error.get("type", "")), error.get("name", "")
    if code == "conflict":
        return _("The %(item)s “%(name)s” was not copied: the BCP tenant has a record of its own with the same "
                 "%(field)s. Rename or delete one of the two, then sync again.") % {
            "item": item, "name": name, "field": _field(error.get("field", ""))}
    if code == "missing_link":
        return _("The %(item)s “%(name)s” was not copied: it uses the %(link_item)s “%(link)s”, which is not on the "
                 "BCP tenant.") % {"item": item, "name": name, "link_item": _item(error.get("link_type", "")),
                                   "link": error.get("link_name", "")}
    if code == "protected":
        return _("The %(item)s “%(name)s” was deleted on the primary but stays on the BCP tenant, because records made "
                 "there use it (%(detail)s). Change those on the BCP tenant, then sync again.") % {
            "item": item, "name": name, "detail": error.get("detail") or "—"}
    if code == "reconcile_missing":
        return ngettext(
            "Reconciliation: %(count)d %(type)s record has no copy on the BCP tenant: %(names)s.",
            "Reconciliation: %(count)d %(type)s records have no copy on the BCP tenant: %(names)s.",
            error["count"]) % {"count": error["count"], "type": _label(error["type"]),
                               "names": ", ".join(error.get("names", []))}
    if code == "reconcile_differs":
        return ngettext(
            "Reconciliation: %(count)d %(type)s record differs on the BCP tenant from the primary: %(names)s.",
            "Reconciliation: %(count)d %(type)s records differ on the BCP tenant from the primary: %(names)s.",
            error["count"]) % {"count": error["count"], "type": _label(error["type"]),
                               "names": ", ".join(error.get("names", []))}
    if code == "reconcile_extra":
        return ngettext(
            "Reconciliation: %(count)d %(type)s copy on the BCP tenant no longer has a record on the primary.",
            "Reconciliation: %(count)d %(type)s copies on the BCP tenant no longer have a record on the primary.",
            error["count"]) % {"count": error["count"], "type": _label(error["type"])}
    if code == "region_down":
        from bcp_project.regions import region_label

        return _("The database of region %(region)s did not answer, so this run was rolled back: the BCP tenant is "
                 "exactly as the last complete run left it. The next run starts when the region answers again.") % {
            "region": region_label(error.get("region", ""))}
    if code == "busy":
        return _("Another run of this pair was still writing to the BCP tenant, so this one stopped without "
                 "writing anything.")
    return _("The run stopped with an unexpected error (%(detail)s). Nothing half-written is kept; start the sync "
             "again, and tell your account representative if it happens again.") % {"detail": error.get("detail", "")}


def region_down_now(state) -> str:
    """Why Sync now is not offered: a region of the pair (health.RegionState) is marked not answering."""
    from bcp_project.regions import region_label
    from bcp_project.templatetags.times import when_text

    values = {"region": region_label(state.alias)}
    if state.down_since is None:
        return _("The database of %(region)s is not answering, so a sync cannot run now: Sync now is offered again "
                 "once it answers.") % values
    return _("The database of %(region)s has not answered since %(since)s, so a sync cannot run now: Sync now is "
             "offered again once it answers.") % {**values, "since": when_text(state.down_since)}


def _field(name: str) -> str:
    return {"name": _("name"), "username": _("username"), "address": _("address")}.get(name, name)


SKIP_REASONS = {
    "bcp_active": lambda: _("The BCP tenant is active, so syncing is paused until someone switches back to the "
                            "primary on BC Enablement."),
    "disabled": lambda: _("Sync was disabled before this run started."),
    "switched": lambda: _("A switch to the BCP tenant began while this run was going, so the run was rolled back: "
                          "the BCP tenant is exactly as the last complete run left it. Syncing resumes after the "
                          "switch back to the primary on BC Enablement."),
}


def skip_text(reason: str) -> str:
    text = SKIP_REASONS.get(reason)
    return text() if text else reason


def run_error_lines(run) -> list[str]:
    return [error_text(error) for error in run.errors]
