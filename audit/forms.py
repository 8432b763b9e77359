from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("Who"), required=False, max_length=150)
    action = forms.CharField(label=_("What"), required=False, max_length=80,
                             help_text=_("For example tenant.create or auth.sign_in"))
    tenant = forms.CharField(label=_("Tenant"), required=False, max_length=120)
    day_from = forms.DateField(label=_("From (UTC)"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}))
    day_to = forms.DateField(label=_("To (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("day_from") and data.get("day_to") and data["day_from"] > data["day_to"]:
            self.add_error("day_to", _("“To” must be on or after “From”."))
        return data
