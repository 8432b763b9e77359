"""Input validation for the Admin pages. Writes happen in services; `service_data()` hands them the input."""

import zoneinfo

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from bcp_project.fields import ModelMultipleChoiceField

from . import selectors
from .models import (
    PROFICIENCY_MAX,
    PROFICIENCY_MIN,
    Channel,
    Classification,
    Direction,
    Disposition,
    HoursOfOperation,
    PointOfContact,
    Skill,
    Tag,
    Team,
    UnavailableCode,
    Weekday,
)

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
YES_NO_ANY = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


class ConfigForm(forms.ModelForm):
    """A type's form: bound to a copy of the object (the service compares against the original),
    with foreign-key choices limited to the tenant."""

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        self.limit_choices(tenant)

    def limit_choices(self, tenant) -> None:
        pass

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


class TeamForm(ConfigForm):
    class Meta:
        model = Team
        fields = ["name", "description"]


class SkillForm(ConfigForm):
    class Meta:
        model = Skill
        fields = ["name", "channel", "direction", "description"]


class UnavailableCodeForm(ConfigForm):
    class Meta:
        model = UnavailableCode
        fields = ["name", "after_contact_work"]


class TagForm(ConfigForm):
    class Meta:
        model = Tag
        fields = ["name", "description"]


class PointOfContactForm(ConfigForm):
    class Meta:
        model = PointOfContact
        fields = ["name", "channel", "address", "skill", "hours"]
        help_texts = {"address": _("Phone and SMS: +14155550123 · Email: support@example.com · "
                                   "Chat and work item: an entry-point ID such as web-chat · Social: @handle")}

    def limit_choices(self, tenant) -> None:
        self.fields["skill"].queryset = selectors.skill_choices(tenant=tenant)
        self.fields["skill"].help_text = _("Contacts go to agents who hold this skill; its channel must match.")
        self.fields["hours"].queryset = selectors.hours_choices(tenant=tenant)


class DispositionForm(ConfigForm):
    class Meta:
        model = Disposition
        fields = ["name", "classification", "skills"]
        widgets = {"skills": forms.CheckboxSelectMultiple}
        field_classes = {"skills": ModelMultipleChoiceField}

    def limit_choices(self, tenant) -> None:
        self.fields["skills"].queryset = selectors.skill_choices(tenant=tenant)
        self.fields["skills"].help_text = _("Agents can choose this disposition on contacts of these skills.")


# --- forms with rows (a weekly schedule, exceptions, skills) -------------------------------------

class RowsMixin:
    """A form that carries a formset of rows; both are validated and disabled together."""

    rows_formset: type[forms.BaseFormSet]
    rows_prefix: str

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = self.rows_formset(self.data or None, prefix=self.rows_prefix, initial=self.rows_initial(),
                                      form_kwargs={"tenant": self.tenant})

    def rows_initial(self) -> list[dict]:
        return []

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.rows.is_valid()])

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True
        for form in self.rows.forms:
            for field in form.fields.values():
                field.disabled = True

    def kept_rows(self) -> list[dict]:
        # Untouched empty rows have no cleaned_data; existing rows do, changed or not.
        return [f.cleaned_data for f in self.rows.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


class SpanRowForm(forms.Form):
    """Open from–to on a date, or closed."""

    def __init__(self, *args, tenant=None, **kwargs):
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if not data.get("closed") and not data.get("DELETE"):
            opens_at, closes_at = data.get("opens_at"), data.get("closes_at")
            if opens_at is None or closes_at is None:
                raise forms.ValidationError(_("Enter both times, or tick Closed."))
            if opens_at >= closes_at:
                raise forms.ValidationError(_("The closing time must be after the opening time."))
        return data


class ExceptionRowForm(SpanRowForm):
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    name = forms.CharField(label=_("Name"), max_length=100)
    closed = forms.BooleanField(label=_("Closed all day"), required=False, initial=True)
    opens_at = forms.TimeField(label=_("Opens at"), required=False, widget=TIME_WIDGET)
    closes_at = forms.TimeField(label=_("Closes at"), required=False, widget=TIME_WIDGET)


ExceptionFormSet = formset_factory(ExceptionRowForm, extra=2, can_delete=True)


def _timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class HoursForm(RowsMixin, ConfigForm):
    rows_formset = ExceptionFormSet
    rows_prefix = "exceptions"

    class Meta:
        model = HoursOfOperation
        fields = ["name", "timezone", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].widget = forms.Select(choices=_timezone_choices())
        days = {d.day: d for d in self.instance.days.all()} if self.instance.pk else {}
        self.day_rows = []
        for day, label in Weekday.choices:
            current = days.get(day)
            closed = current.closed if current else day >= Weekday.SATURDAY
            opens = current.opens_at if current else (None if closed else "09:00")
            closes = current.closes_at if current else (None if closed else "17:00")
            self.fields[f"day{day}_closed"] = forms.BooleanField(
                label=_("%(day)s: closed") % {"day": label}, required=False, initial=closed)
            self.fields[f"day{day}_opens_at"] = forms.TimeField(
                label=_("%(day)s: opens at") % {"day": label}, required=False, initial=opens, widget=TIME_WIDGET)
            self.fields[f"day{day}_closes_at"] = forms.TimeField(
                label=_("%(day)s: closes at") % {"day": label}, required=False, initial=closes, widget=TIME_WIDGET)
            self.day_rows.append((label, self[f"day{day}_closed"], self[f"day{day}_opens_at"],
                                  self[f"day{day}_closes_at"]))

    def rows_initial(self) -> list[dict]:
        if not self.instance.pk:
            return []
        return [{"date": e.date, "name": e.name, "closed": e.closed, "opens_at": e.opens_at, "closes_at": e.closes_at}
                for e in self.instance.exceptions.all()]

    def clean(self):
        data = super().clean()
        for day in Weekday.values:
            if data.get(f"day{day}_closed"):
                continue
            opens_at, closes_at = data.get(f"day{day}_opens_at"), data.get(f"day{day}_closes_at")
            if opens_at is None or closes_at is None:
                self.add_error(f"day{day}_opens_at", _("Enter both times, or tick Closed."))
            elif opens_at >= closes_at:
                self.add_error(f"day{day}_closes_at", _("The closing time must be after the opening time."))
        return data

    def service_data(self) -> dict:
        data = self.cleaned_data
        week = {}
        for day in Weekday.values:
            closed = data.pop(f"day{day}_closed")
            opens_at, closes_at = data.pop(f"day{day}_opens_at"), data.pop(f"day{day}_closes_at")
            week[day] = None if closed else (opens_at, closes_at)
        return {**data, "week": week, "exceptions": self.kept_rows()}


class SkillRowForm(forms.Form):
    skill = forms.ModelChoiceField(label=_("Skill"), queryset=None)
    proficiency = forms.IntegerField(label=_("Proficiency"), min_value=PROFICIENCY_MIN, max_value=PROFICIENCY_MAX,
                                     initial=PROFICIENCY_MIN)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["skill"].queryset = selectors.skill_choices(tenant=tenant)


class BaseSkillRows(forms.BaseFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            skill = form.cleaned_data.get("skill") if form.cleaned_data else None
            if skill is None or form.cleaned_data.get("DELETE"):
                continue
            if skill in seen:
                form.add_error("skill", _("This skill is already listed above."))
            seen.add(skill)


SkillRowFormSet = formset_factory(SkillRowForm, formset=BaseSkillRows, extra=3, can_delete=True)


class AgentForm(RowsMixin, forms.Form):
    """A user: the sign-in (accounts.User) and the agent side, edited together."""

    rows_formset = SkillRowFormSet
    rows_prefix = "skills"

    username = forms.CharField(label=_("Username"), max_length=150,
                               help_text=_("Letters, digits and @/./+/-/_ only."))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=None)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False, empty_label=_("No team"))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True,
                                help_text=_("Inactive users cannot sign in and receive no contacts."))
    password = forms.CharField(label=_("Password"), required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, tenant, instance=None, **kwargs):
        self.tenant = tenant
        self.instance = instance
        if instance is not None and instance.pk:
            profile = getattr(instance, "agent_profile", None)
            kwargs.setdefault("initial", {
                "username": instance.username, "first_name": instance.first_name, "last_name": instance.last_name,
                "email": instance.email, "role": instance.role_id, "active": instance.is_active,
                "team": profile.team_id if profile else None,
            })
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = selectors.role_choices(tenant=tenant)
        self.fields["team"].queryset = selectors.team_choices(tenant=tenant)
        creating = instance is None or not instance.pk
        self.fields["password"].required = creating
        self.fields["password"].help_text = (
            _("The user signs in with this password.") if creating
            else _("Leave empty to keep the current password.")
        )

    def rows_initial(self) -> list[dict]:
        if self.instance is None or not self.instance.pk:
            return []
        profile = getattr(self.instance, "agent_profile", None)
        if profile is None:
            return []
        return [{"skill": a.skill_id, "proficiency": a.proficiency} for a in profile.assignments.all()]

    def clean_username(self):
        from django.contrib.auth.validators import UnicodeUsernameValidator

        username = self.cleaned_data["username"].strip()
        UnicodeUsernameValidator()(username)
        return username

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            from django.contrib.auth.password_validation import validate_password

            validate_password(password, user=self.instance)
        return password

    def service_data(self) -> dict:
        rows = self.kept_rows()
        return {**self.cleaned_data, "skills": [(row["skill"], row["proficiency"]) for row in rows]}


# --- filters on the list pages --------------------------------------------------------------------

def _choice(label, choices):
    return forms.ChoiceField(label=label, required=False, choices=[("", _("All"))] + list(choices))


def skill_filters(tenant) -> dict:
    return {"channel": _choice(_("Channel"), Channel.choices), "direction": _choice(_("Direction"), Direction.choices)}


def point_of_contact_filters(tenant) -> dict:
    return {"channel": _choice(_("Channel"), Channel.choices)}


def disposition_filters(tenant) -> dict:
    return {"classification": _choice(_("Classification"), Classification.choices)}


def unavailable_code_filters(tenant) -> dict:
    return {"after_contact_work": forms.ChoiceField(label=_("After-contact work"), required=False,
                                                    choices=YES_NO_ANY)}


def agent_filters(tenant) -> dict:
    roles = [(str(r.pk), r.name) for r in selectors.role_choices(tenant=tenant)]
    return {"role": _choice(_("Role"), roles)}


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def __init__(self, *args, extra_fields: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(extra_fields)

    def selected(self) -> dict:
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if name != "q" and value}
