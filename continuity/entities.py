"""The plan's sections as sync types: the sync copies them to the BCP tenant with the rest of the
configuration, so the plan can be read there during an outage. Registered from AppConfig.ready(), because the
sync sits below this app and must not import it."""

from django.utils.translation import gettext_lazy as _

from sync.entities import Child, Entity
from sync.entities import register as register_entity

from .models import ActivationTrigger, CriticalSystem, EmergencyContact, PlanTeam, Procedure, ProcedureStep

TYPES = [
    Entity(key=PlanTeam.ENTITY_TYPE, label=_("Plan Teams"), item=_("plan team"), model=PlanTeam,
           fields=("name", "position", "responsibilities")),
    Entity(key=CriticalSystem.ENTITY_TYPE, label=_("Critical Systems"), item=_("critical system"),
           model=CriticalSystem,
           fields=("name", "position", "failover", "responsible", "recovery_procedure", "restoration_procedure",
                   "recovery_time_goal"),
           links={"responsible_team_id": PlanTeam.ENTITY_TYPE}),
    Entity(key=EmergencyContact.ENTITY_TYPE, label=_("Emergency Contacts"), item=_("emergency contact"),
           model=EmergencyContact, fields=("name", "position", "role", "phone", "email", "last_reviewed"),
           links={"team_id": PlanTeam.ENTITY_TYPE}),
    Entity(key=Procedure.ENTITY_TYPE, label=_("Procedures"), item=_("procedure"), model=Procedure,
           fields=("name", "position", "kind", "description"),
           children=(Child(key="steps", model=ProcedureStep, parent="procedure_id", fields=("position", "text"),
                           links={"team_id": PlanTeam.ENTITY_TYPE}),)),
    Entity(key=ActivationTrigger.ENTITY_TYPE, label=_("Activation Triggers"), item=_("activation trigger"),
           model=ActivationTrigger, fields=("name", "position", "criterion", "action", "instructions"),
           links={"procedure_id": Procedure.ENTITY_TYPE}),
]


def register() -> None:
    for entity in TYPES:
        register_entity(entity)
