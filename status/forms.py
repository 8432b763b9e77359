from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PlatformStatus, StatusLevel


class PlatformStatusForm(forms.Form):
    """Only the shape of the input; platform_status_set decides what a status needs (a message, for one)."""

    level = forms.ChoiceField(label=_("Status"), choices=StatusLevel.choices, widget=forms.RadioSelect,
                              error_messages={"required": _("Choose Operational, Degraded or Outage."),
                                              "invalid_choice": _("Choose Operational, Degraded or Outage.")})
    message = forms.CharField(
        label=_("Message"), required=False, max_length=PlatformStatus.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What is happening and what to expect, in a sentence or two. Needed for Degraded and Outage: "
                    "subscribers read it in their email, and during an outage users read it instead of their pages."),
        error_messages={"max_length": _("Keep the message to %(limit_value)d characters; it has %(show_value)d.")})


class StatusSearchForm(forms.Form):
    q = forms.CharField(label=_("Region or tenant name"), required=False, max_length=120)


class StatusAlertsForm(forms.Form):
    subscribed = forms.BooleanField(label=_("Email me when the status of my tenant or its region changes, and when "
                                            "we switch to the BCP tenant or back"), required=False)
