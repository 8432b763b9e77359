from django import forms
from django.utils.translation import gettext_lazy as _

from .engine.registry import entity_choices
from .models import Frequency, SyncRun


class FrequencyForm(forms.Form):
    frequency = forms.ChoiceField(label=_("How often"), choices=Frequency.choices, widget=forms.RadioSelect,
                                  help_text=_("Scheduled runs start at the time of day you enabled the sync."))


class CustomSelectionForm(forms.Form):
    custom = forms.TypedChoiceField(
        label=_("What to sync"), widget=forms.RadioSelect, coerce=lambda value: value == "custom",
        choices=[("all", _("Everything (the default configuration)")), ("custom", _("Only the data I choose"))])
    entity_types = forms.MultipleChoiceField(label=_("Data to sync"), choices=entity_choices,
                                             widget=forms.CheckboxSelectMultiple, required=False)


class HistoryFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All"))] + list(SyncRun.Status.choices))


class CorrelationLookupForm(forms.Form):
    entity_type = forms.ChoiceField(label=_("Type"), choices=entity_choices)
    side = forms.ChoiceField(label=_("Look up on"), initial="primary",
                             choices=[("primary", _("Primary tenant")), ("bcp", _("BCP tenant"))])
    q = forms.CharField(label=_("Name or username contains"), required=False, max_length=150)
