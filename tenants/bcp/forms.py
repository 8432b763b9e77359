"""Input checks for the BCP wizard. Whether a mapping can be made is `mapping_validate`'s job, so these
forms only check the shape of what was sent."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Region
from .selectors import dr_tenant_resolve


class BcpSettingsForm(forms.Form):
    configurations = forms.BooleanField(label=_("BCP Configurations"), required=False)
    enablement = forms.BooleanField(label=_("BCP Tenant Enablement"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("configurations") and not data.get("enablement"):
            raise forms.ValidationError(
                _("Turn on BCP Configurations, BCP Tenant Enablement or both, then click Next."))
        return data


class BcpMappingForm(forms.Form):
    ACTIONS = ("validate", "passkey", "finish")

    # Any region is accepted here, even the primary's: mapping_validate explains what is wrong with it.
    region = forms.ModelChoiceField(
        label=_("Available Regions"), queryset=Region.objects.all(), required=False,
        error_messages={"invalid_choice": _("That region does not exist. Choose one from the list.")},
    )
    dr_tenant = forms.CharField(label=_("DR Tenant"), required=False, max_length=100)
    dr_tenant_id = forms.CharField(label=_("DR tenant ID (paste instead)"), required=False, max_length=100)
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS])

    def clean(self):
        data = super().clean()
        chosen = (data.get("dr_tenant") or "").strip()
        pasted = (data.get("dr_tenant_id") or "").strip().strip("{}").strip()
        if chosen and pasted and chosen.lower() != pasted.lower():
            raise forms.ValidationError(
                _("The pasted tenant ID and the DR Tenant you chose differ. Clear one of them and validate again."))
        data["dr_value"] = pasted or chosen
        if data.get("region") is None and pasted:
            # A pasted ID names the tenant, and so its region: do not make the representative pick it too.
            pasted_tenant = dr_tenant_resolve(value=pasted)
            if pasted_tenant is not None:
                data["region"] = pasted_tenant.region
        return data
