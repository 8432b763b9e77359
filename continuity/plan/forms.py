"""Input validation for the plan's pages and its settings; the services check again and write."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from bcp_project.fields import ModelMultipleChoiceField

from ..models import ActivationTrigger, CriticalSystem, EmergencyContact, Plan, PlanTeam, Procedure
from .changes import DOWN, UP
from .selectors import tenant_people
from .services import EDITABLE

TEXT = forms.Textarea(attrs={"rows": 3})
PHONE = re.compile(r"\+?[0-9 ()./-]+(\s*(ext\.?|x)\s*[0-9]+)?", re.IGNORECASE)
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SectionForm(forms.ModelForm):
    """A section row's fields, with links limited to the tenant's own plan."""

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.model.objects.filter(tenant=tenant).order_by("position", "id")
                field.empty_label = _("— none —")
            if name == "name":
                field.widget.attrs.setdefault("autocomplete", "off")

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CriticalSystemForm(SectionForm):
    class Meta:
        model = CriticalSystem
        fields = list(EDITABLE[CriticalSystem.ENTITY_TYPE])
        widgets = {"failover": TEXT, "recovery_procedure": TEXT, "restoration_procedure": TEXT}
        help_texts = {"recovery_time_goal": _("How many minutes may pass before the system works again.")}


class PlanTeamForm(SectionForm):
    class Meta:
        model = PlanTeam
        fields = list(EDITABLE[PlanTeam.ENTITY_TYPE])
        widgets = {"responsibilities": TEXT}


class EmergencyContactForm(SectionForm):
    class Meta:
        model = EmergencyContact
        fields = list(EDITABLE[EmergencyContact.ENTITY_TYPE])
        widgets = {"last_reviewed": DATE, "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})}
        help_texts = {"phone": _("In international format if you can, e.g. +14155550123."),
                      "last_reviewed": _("When someone last confirmed these details.")}

    def clean_phone(self):
        """Someone will dial this in an emergency: digits with the usual separators, an extension at most."""
        phone = self.cleaned_data["phone"].strip()
        if phone and (not PHONE.fullmatch(phone) or sum(c.isdigit() for c in phone) < 5):
            raise forms.ValidationError(_("Enter a phone number of digits, spaces and + ( ) - . only, "
                                          "e.g. +1 415 555 0123 or +1 415 555 0123 ext. 12."), code="phone")
        return phone


class ProcedureForm(SectionForm):
    class Meta:
        model = Procedure
        fields = list(EDITABLE[Procedure.ENTITY_TYPE])
        widgets = {"description": TEXT}


class ActivationTriggerForm(SectionForm):
    class Meta:
        model = ActivationTrigger
        fields = list(EDITABLE[ActivationTrigger.ENTITY_TYPE])
        widgets = {"criterion": TEXT, "instructions": TEXT}
        help_texts = {"procedure": _("The procedure to follow, when that is what to do.")}


FORMS: dict[str, type[SectionForm]] = {form.Meta.model.ENTITY_TYPE: form for form in (
    CriticalSystemForm, PlanTeamForm, EmergencyContactForm, ProcedureForm, ActivationTriggerForm)}


class StepForm(forms.Form):
    text = forms.CharField(label=_("What to do"), widget=TEXT, max_length=2000)
    team = forms.ModelChoiceField(label=_("Who does it"), queryset=PlanTeam.objects.none(), required=False,
                                  empty_label=_("— none —"))

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = PlanTeam.objects.filter(tenant=tenant).order_by("position", "id")


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[(UP, _("Up")), (DOWN, _("Down"))])


# --- the plan's settings --------------------------------------------------------------------------------------


# A person of the tenant as the choice lists show them: the plan's owners here, a follow-up action's owner in the
# drills' forms.
def _person_label(user) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class PeopleChoice(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class SettingsForm(forms.Form):
    drill_every_months = forms.TypedChoiceField(label=_("Drill frequency"), coerce=int,
                                                choices=Plan.DrillFrequency.choices,
                                                help_text=_("How often the plan is exercised. Counted from the last "
                                                            "drill, or from the day the plan was started."))
    owners = PeopleChoice(label=_("Plan owners"), queryset=None, required=False,
                          widget=forms.CheckboxSelectMultiple,
                          help_text=_("They are reminded by email when a drill is overdue, an emergency contact needs "
                                      "a review or a follow-up action is past due. If you choose nobody, the "
                                      "reminders go to everyone whose role holds Continuity Plan: Edit."),
                          error_messages={"invalid_choice": _("Choose the plan's owners from the people of this "
                                                              "tenant.")})

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owners"].queryset = tenant_people(tenant=tenant)
