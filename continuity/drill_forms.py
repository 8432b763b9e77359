"""Input of the drill pages: what was exercised, its follow-up actions, Rehearse, and the plan's settings."""

from django import forms
from django.utils.translation import gettext_lazy as _

from bcp_project.fields import ModelMultipleChoiceField

from .drill_selectors import tenant_people
from .drills import RECORDED_KINDS, TEXT_MAX
from .models import Drill, Plan

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _person_label(user) -> str:
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


class PersonChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class PeopleChoice(ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return _person_label(obj)


class DrillForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DATE, error_messages={"required": _("Enter the date the drill "
                                                                                          "was held."),
                                                                            "invalid": _("Enter a date.")})
    kind = forms.ChoiceField(label=_("Kind"), choices=[(k.value, k.label) for k in RECORDED_KINDS])
    scenario = forms.CharField(label=_("Scenario"), max_length=300,
                               help_text=_("What was exercised, for example “The ACD fails at 9:00 on a Monday”."),
                               error_messages={"required": _("Describe the scenario that was exercised.")})
    participants = forms.CharField(label=_("Participants"), required=False, max_length=TEXT_MAX,
                                   widget=forms.Textarea(attrs={"rows": 2}),
                                   help_text=_("Who took part: names, teams or roles."))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=[(o.value, o.label) for o in Drill.Outcome
                                                             if o != Drill.Outcome.PENDING])
    findings = forms.CharField(label=_("Findings"), required=False, max_length=TEXT_MAX,
                               widget=forms.Textarea(attrs={"rows": 4}),
                               help_text=_("What worked, what did not, and what the plan is missing."))


class SystemDrillForm(forms.Form):
    """A rehearsal or a real switch: its measurements stay; the notes can be added to."""

    participants = DrillForm.base_fields["participants"]
    findings = DrillForm.base_fields["findings"]


class ActionForm(forms.Form):
    description = forms.CharField(label=_("Follow-up action"), max_length=300,
                                  error_messages={"required": _("Say what has to be done.")})
    owner = PersonChoice(label=_("Owner"), queryset=None, empty_label=_("Choose a person"),
                         error_messages={"required": _("Choose who owns this action."),
                                         "invalid_choice": _("Choose the owner from the people of this tenant.")})
    due_on = forms.DateField(label=_("Due"), widget=DATE, error_messages={"required": _("Choose by when it has to "
                                                                                       "be done."),
                                                                          "invalid": _("Enter a date.")})

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = tenant_people(tenant=tenant)


# The new drill's follow-up actions: a row left empty is no action.
ActionFormSet = forms.formset_factory(ActionForm, extra=2, max_num=20, validate_max=True)


class RehearseForm(forms.Form):
    passkey = forms.CharField(label=_("Passkey"), max_length=80, strip=True,
                              widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                              help_text=_("The same passkey as for a switch. A wrong one counts towards the limit of "
                                          "tries, as it does on BC Enablement."),
                              error_messages={"required": _("Enter the passkey.")})
    confirm = forms.BooleanField(
        label=_("I understand that a rehearsal runs the readiness checks and a sync, and moves no traffic: "
                "nobody is signed out."),
        error_messages={"required": _("Confirm the rehearsal: tick the box.")})


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
