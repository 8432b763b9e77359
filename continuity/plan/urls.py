"""The plan's pages: the plan itself and, for editors, one set of add / edit / move / remove pages that serves
every section (the section is a path segment: systems, teams, contacts, procedures, triggers); and its settings."""

from django.urls import path, register_converter

from . import views
from .sections import BY_SLUG, SLUGS, Section


class SectionConverter:
    """A section's path segment <-> its Section. Only the five names match, so "drills/new/" is not a section."""

    regex = "|".join(BY_SLUG)

    def to_python(self, value: str) -> Section:
        return BY_SLUG[value]

    def to_url(self, value) -> str:
        return SLUGS[value.key] if isinstance(value, Section) else str(value)


register_converter(SectionConverter, "plansection")

urlpatterns = [
    path("", views.plan, name="plan"),
    path("start/", views.plan_start, name="plan_start"),
    path("<plansection:section>/new/", views.item_create, name="item_create"),
    path("<plansection:section>/<int:pk>/", views.item_edit, name="item_edit"),
    path("<plansection:section>/<int:pk>/remove/", views.item_remove, name="item_remove"),
    path("<plansection:section>/<int:pk>/move/", views.item_move, name="item_move"),
    path("contacts/<int:pk>/reviewed/", views.contact_reviewed, name="contact_reviewed"),
    path("procedures/<int:pk>/steps/new/", views.step_create, name="step_create"),
    path("procedures/<int:pk>/steps/<int:step>/", views.step_edit, name="step_edit"),
    path("procedures/<int:pk>/steps/<int:step>/remove/", views.step_remove, name="step_remove"),
    path("procedures/<int:pk>/steps/<int:step>/move/", views.step_move, name="step_move"),
    path("settings/", views.plan_settings, name="settings"),
]
