from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is not right. Check both and try again; "
                           "passwords are case-sensitive."),
        "inactive": _("This account is switched off. Ask your administrator to switch it on."),
        # Set by the routing backend (enablement) on the request: accounts does not import it.
        "no_account_on_active_tenant": _(
            "Your organization is working on its BCP tenant “%(tenant)s” now, and you have no account there yet: "
            "yours was made after the last copy to it. Ask one of your administrators to give you an account on "
            "“%(tenant)s” (BC Enablement → People without an account); then sign in here with your usual username "
            "and password."),
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            problem = getattr(self.request, "sign_in_problem", None)
            if problem and problem.get("code") in self.error_messages:
                raise forms.ValidationError(self.error_messages[problem["code"]], code=problem["code"],
                                            params={"tenant": problem.get("tenant", "")}) from None
            raise

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class SwitchEmailsForm(forms.Form):
    switch_emails = forms.BooleanField(
        label=_("Email me when my organization switches between its primary and its BCP tenant"), required=False,
        help_text=_("The email says which tenant you land on when you sign in, and why. Administrators who can "
                    "switch are emailed about every switch whatever this says."))
