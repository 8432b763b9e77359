"""`manage.py check`: what the sync's registry promises the apps below it."""

from django.apps import apps
from django.core.checks import Error

from .engine.registry import BY_KEY


def entity_types_are_registered(app_configs=None, **kwargs) -> list[Error]:
    """A model's ENTITY_TYPE is what its tombstones (contactcenter.Deletion) and correlations carry: each one
    names a type registered with the sync, or the sync would never delete that record's copy."""
    return [Error(f"{model._meta.label}.ENTITY_TYPE is {model.ENTITY_TYPE!r}, which no sync type is registered under.",
                  hint="Register the model's type from its app's AppConfig.ready() (sync.engine.registry.register).",
                  obj=model, id="sync.E001")
            for model in apps.get_models() if getattr(model, "ENTITY_TYPE", None) is not None
            and model.ENTITY_TYPE not in BY_KEY]
