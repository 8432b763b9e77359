"""`manage.py region down na` / `region up na` / `region status`: take a region's database down and bring it back,
for a drill or a demo. Down, the app treats the region exactly as one whose database died: nothing touches it, its
pages answer 503, BC Enablement says since when. The probe leaves a region taken down this way alone until
`region up`, which then checks at once whether the region really answers."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.services import Actor, audit_record
from bcp_project.regions import aliases, health

DRILL_REASON = "taken down with manage.py region down"


class Command(BaseCommand):
    help = ("Takes a region's database down (as if it died) or brings it back, for drills; or shows each region's "
            "health.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        down = sub.add_parser("down", help="Treat the region's database as dead until `region up`.")
        down.add_argument("region", help="the region's code, such as na")
        down.add_argument("--reason", default="", help="why, for the audit log and the operators (optional)")
        up = sub.add_parser("up", help="Stop treating the region as dead, and check at once that it answers.")
        up.add_argument("region", help="the region's code, such as na")
        sub.add_parser("status", help="Each region: answering or down, since when, and whether forced.")

    def handle(self, *args, action, **options):
        if action == "status":
            return self._status()
        alias = options["region"]
        if alias not in aliases():
            raise CommandError(f"There is no region {alias!r}; the regions are {', '.join(aliases())}.")
        if action == "down":
            return self._down(alias, options["reason"].strip())
        return self._up(alias)

    def _down(self, alias, reason):
        before = health.state(alias)
        now = health.mark_down(alias, f"{DRILL_REASON}: {reason}" if reason else DRILL_REASON, forced=True)
        audit_record(action="region.down", by=Actor.system(),
                     changes={"region": alias, "reason": reason, "answering": [before.answering, False]})
        self.stdout.write(self.style.WARNING(
            f"Region {alias} is down (forced) since {now.down_since:%Y-%m-%d %H:%M:%S} UTC: nothing touches its "
            f"database until `manage.py region up {alias}`."))

    def _up(self, alias):
        before = health.state(alias)
        health.mark_up(alias)
        audit_record(action="region.up", by=Actor.system(),
                     changes={"region": alias, "answering": [before.answering, True], "forced": [before.forced, False]})
        reason = health.probe(alias)
        if reason:
            health.mark_down(alias, reason)
            self.stdout.write(self.style.ERROR(
                f"Region {alias} is no longer forced down, but its database does not answer ({reason}): it stays "
                "down until the probe finds it answering."))
            return
        self.stdout.write(self.style.SUCCESS(f"Region {alias} is answering."))

    def _status(self):
        now = timezone.now()
        for state in health.states():
            if not state.is_down:
                line = f"{state.alias}: answering"
            else:
                since = f"since {state.down_since:%Y-%m-%d %H:%M:%S} UTC" if state.down_since else ""
                forced = " (forced: manage.py region up to bring it back)" if state.forced else ""
                line = f"{state.alias}: DOWN {since}{forced} - {state.reason}"
            if state.checked_at:
                line += f" (checked {int((now - state.checked_at).total_seconds())} s ago)"
            self.stdout.write(line)
