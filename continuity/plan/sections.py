"""The plan's sections and the fields each one shows, in order: one declaration that the plan page, the
print view, the PDF, the version snapshots and the version compare all read; and each section's path segment.

A snapshot stores field keys and plain text values, never labels, so that an old version reads in the language
of whoever opens it."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam, Procedure


@dataclass(frozen=True)
class Section:
    key: str  # the model's ENTITY_TYPE
    title: object
    intro: object  # one line under the heading: what the section is for
    model: type
    fields: tuple[tuple[str, object], ...]  # (field key in a snapshot item's "values", label)


SECTIONS: tuple[Section, ...] = (
    Section(CriticalSystem.ENTITY_TYPE, _("Critical systems and functions"),
            _("What the contact center cannot work without, how each one fails over, and who brings it back."),
            CriticalSystem,
            (("failover", _("Backup and failover arrangement")), ("responsible_team", _("Responsible team")),
             ("responsible", _("Responsible person")), ("recovery_procedure", _("Recovery procedure")),
             ("restoration_procedure", _("Restoration procedure")),
             ("recovery_time_goal", _("Recovery-time goal")))),
    Section(PlanTeam.ENTITY_TYPE, _("Roles and responsibilities"),
            _("The teams that run the plan and what each one does."), PlanTeam,
            (("responsibilities", _("Responsibilities")),)),
    Section(EmergencyContact.ENTITY_TYPE, _("Emergency contacts"),
            _("Whom to call, in escalation order. Confirm each contact at least every 90 days."), EmergencyContact,
            (("role", _("Role")), ("team", _("Team")), ("phone", _("Phone")), ("email", _("Email")),
             ("last_reviewed", _("Last reviewed")))),
    Section(Procedure.ENTITY_TYPE, _("Procedures"),
            _("Detection, notification and escalation; damage assessment; each as ordered steps."), Procedure,
            (("kind", _("Kind")), ("description", _("Purpose")), ("steps", _("Steps")))),
    Section(ActivationTrigger.ENTITY_TYPE, _("Activation criteria"),
            _("The triggers that start the plan, and what to do when one is met."), ActivationTrigger,
            (("criterion", _("Criterion")), ("action", _("What to do")), ("procedure", _("Procedure")),
             ("instructions", _("Instructions")))),
)

BY_KEY = {section.key: section for section in SECTIONS}

# The path segment of each section's pages.
SLUGS: dict[str, str] = {
    CriticalSystem.ENTITY_TYPE: "systems",
    PlanTeam.ENTITY_TYPE: "teams",
    EmergencyContact.ENTITY_TYPE: "contacts",
    Procedure.ENTITY_TYPE: "procedures",
    ActivationTrigger.ENTITY_TYPE: "triggers",
}
BY_SLUG: dict[str, Section] = {slug: BY_KEY[key] for key, slug in SLUGS.items()}


def field_label(section: Section, key: str) -> str:
    """A field's label in the reader's language; "name" and "position" belong to every section."""
    if key == "name":
        return str(_("Name"))
    if key == "position":
        return str(_("Position"))
    return str(dict(section.fields).get(key, key))
