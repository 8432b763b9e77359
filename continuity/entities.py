"""The plan's sections as sync types: the sync copies them to the BCP tenant with the rest of the
configuration, so the plan can be read there during an outage. Registered from AppConfig.ready(), because the
sync sits below this app and must not import it."""

from django.utils.translation import gettext_lazy as _

from sync.engine.registry import register as register_type
from sync.engine.types import Child, Entity

from .models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam, Procedure, ProcedureStep

TYPES = [
    Entity(label=_("Plan Teams"), item=_("plan team"), model=PlanTeam,
           fields=("name", "position", "responsibilities")),
    Entity(label=_("Critical Systems"), item=_("critical system"),
           model=CriticalSystem,
           fields=("name", "position", "failover", "responsible", "recovery_procedure", "restoration_procedure",
                   "recovery_time_goal"),
           links={"responsible_team_id": PlanTeam.ENTITY_TYPE}),
    Entity(label=_("Emergency Contacts"), item=_("emergency contact"),
           model=EmergencyContact, fields=("name", "position", "role", "phone", "email", "last_reviewed"),
           links={"team_id": PlanTeam.ENTITY_TYPE}),
    Entity(label=_("Procedures"), item=_("procedure"), model=Procedure,
           fields=("name", "position", "kind", "description"),
           children=(Child(key="steps", model=ProcedureStep, parent="procedure_id", fields=("position", "text"),
                           links={"team_id": PlanTeam.ENTITY_TYPE}, deleted_alone=True),)),
    Entity(label=_("Activation Triggers"), item=_("activation trigger"),
           model=ActivationTrigger, fields=("name", "position", "criterion", "action", "instructions"),
           links={"procedure_id": Procedure.ENTITY_TYPE}),
]


def register() -> None:
    """Each type under its model's ENTITY_TYPE, after the types it links to."""
    for entity in TYPES:
        register_type(entity)
