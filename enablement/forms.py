from django import forms
from django.utils.translation import gettext_lazy as _

from .notices import MESSAGE_MAX
from .services import REASON_MAX


class SwitchForm(forms.Form):
    """Enable/Disable BCP Tenant, the passkey, and the confirmation that everyone is signed out."""

    bcp_active = forms.BooleanField(label=_("Enable/Disable BCP Tenant"), required=False,
                                    help_text=_("On: the BCP tenant is active. Off: the primary tenant is active."))
    passkey = forms.CharField(label=_("Passkey"), max_length=80, strip=True,
                              widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                              help_text=_("The passkey shown once when BCP was set up. Your account "
                                          "representative can tell you whom to ask if you do not have it."),
                              error_messages={"required": _("Enter the passkey.")})
    confirm = forms.BooleanField(
        label=_("I understand that every user of both tenants is signed out and must sign in again."),
        error_messages={"required": _("Confirm that everyone is signed out: tick the box.")})
    force = forms.BooleanField(label=_("Switch anyway"), required=False)
    reason = forms.CharField(label=_("Reason for switching anyway"), required=False, max_length=REASON_MAX,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Kept in the audit log with the checks that were not met."))


class PairMessageForm(forms.Form):
    """The message for everyone in the pair (enablement.notices.pair_message_set validates it again)."""

    text = forms.CharField(label=_("Message for everyone in the pair"), max_length=MESSAGE_MAX,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Shown on every page to the users of both tenants, and on the sign-in page "
                                       "after a switch, until you remove it."),
                           error_messages={"required": _("Write the message, or remove it with “Remove the "
                                                         "message”.")})
