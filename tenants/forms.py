from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Region


class TenantCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120,
        help_text=_("For a backup tenant, say so in the name, for example “Classics Inc. BCP”."),
        error_messages={"required": _("Give the tenant a name.")},
    )
    region = forms.ModelChoiceField(
        label=_("Region"), queryset=Region.objects.order_by("name"), empty_label=_("Choose a region"),
        error_messages={"required": _("Choose the region the tenant is hosted in."),
                        "invalid_choice": _("That region does not exist. Choose one from the list.")},
    )


class TenantFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=120)
    region = forms.ChoiceField(label=_("Region"), required=False)
    state = forms.ChoiceField(label=_("State"), required=False, choices=[
        ("", _("All tenants")),
        ("on_backup", _("On their BCP tenant now")),
        ("not_answering", _("Region not answering")),
    ], error_messages={"invalid_choice": _("Choose a state from the list.")})

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", _("All regions"))] + [(r.code, r.label) for r in regions]
