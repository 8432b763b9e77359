"""Bulk import of users from a CSV file: parse, check every row against the tenant, then import all or nothing.

The file is checked twice: once for the preview, and again inside the import's transaction, because
the tenant may have changed in between (someone took a username, deleted a team). A file with any bad
row imports nothing. New users get an unusable password: an administrator sets one on the user's page.
"""

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Role, User, username_key
from accounts.services import usernames_taken
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL
from bcp_project.regions.transactions import tenant_atomic

from ..models import PROFICIENCY_MAX, PROFICIENCY_MIN, AgentProfile, Skill, SkillAssignment, Team

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ["username", "first_name", "last_name", "email", "role", "team", "skills", "active"]
REQUIRED_COLUMNS = ["username", "role"]
YES = {"yes", "y", "true", "1", "active", "ja", "j", "wahr"}
NO = {"no", "n", "false", "0", "inactive", "nein", "falsch"}
SAMPLE_ROWS = [
    ["jane.doe", "Jane", "Doe", "jane.doe@example.com", "Agent", "Customer Care",
     "Billing Inquiries:2;Web Chat Support:5", "yes"],
    ["li.wei", "Li", "Wei", "li.wei@example.com", "Supervisor", "Customer Care", "Account Changes:1", "yes"],
    ["sam.lee", "Sam", "Lee", "", "Agent", "", "", "no"],
]
BATCH = 1000
_username_validator = UnicodeUsernameValidator()


class ImportFileError(ApplicationError):
    """The file as a whole cannot be read (not UTF-8, empty, too large, columns missing ...)."""


@dataclass
class ImportRow:
    line: int  # the line number in the file, counting the header as line 1
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    role: Role | None = None
    team: Team | None = None
    skills: dict[Skill, int] = field(default_factory=dict)
    active: bool = True

    @property
    def username(self) -> str:
        return self.values.get("username", "")


@dataclass
class ImportCheck:
    rows: list[ImportRow]

    @property
    def bad_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.bad_rows


def template_csv() -> str:
    """The example file offered for download: the header and three rows that show each column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(SAMPLE_ROWS)
    return buffer.getvalue()


# --- reading the file -----------------------------------------------------------------------------

def read_rows(content: bytes) -> list[ImportRow]:
    """Decode and split the file; raises ImportFileError for a problem with the file as a whole."""
    if len(content) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than %(size)s MB. Split it into smaller files of at most "
                                "%(rows)s users each.") % {"size": MAX_BYTES // (1024 * 1024), "rows": MAX_ROWS})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(_("The file is not UTF-8 text. In your spreadsheet, save it as “CSV UTF-8 "
                                "(comma delimited)” and upload it again.")) from None
    if "\x00" in text:
        raise ImportFileError(_("This does not look like a CSV file. Save the spreadsheet as CSV and upload that."))
    if not text.strip():
        raise ImportFileError(_("The file is empty. Start from the template: a header line, then one user per line."))
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ImportFileError(_("This does not look like a CSV file (%(problem)s). Save the spreadsheet as CSV "
                                "and upload that.") % {"problem": exc}) from None
    header = [name.strip().lower() for name in records[0]]
    _check_header(header)
    rows = []
    for index, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank lines, e.g. at the end of the file
        row = ImportRow(line=index, values={})
        if len(record) != len(header):
            row.errors.append(_("This line has %(found)s fields, the header has %(expected)s. Check for a missing "
                                "or extra comma, or quote the value.") % {"found": len(record),
                                                                          "expected": len(header)})
        for name, cell in zip(header, record, strict=False):
            row.values[name] = cell.strip()
        rows.append(row)
    if not rows:
        raise ImportFileError(_("The file has a header but no users. Add one user per line below the header."))
    if len(rows) > MAX_ROWS:
        raise ImportFileError(_("The file has %(count)s users; at most %(max)s can be imported at once. Split it "
                                "into smaller files.") % {"count": len(rows), "max": MAX_ROWS})
    return rows


def _check_header(header: list[str]) -> None:
    if len(header) == 1 and ";" in header[0]:
        raise ImportFileError(_("The columns are separated by semicolons. Separate them with commas (save as "
                                "“CSV UTF-8 (comma delimited)”), and quote the skills column."))
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise ImportFileError(_("The first line must name the columns; %(missing)s is missing. Expected: "
                                "%(columns)s.") % {"missing": ", ".join(missing), "columns": ", ".join(COLUMNS)})
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise ImportFileError(_("Unknown column: %(unknown)s. The columns are: %(columns)s.")
                              % {"unknown": ", ".join(unknown), "columns": ", ".join(COLUMNS)})
    doubled = sorted({name for name in header if header.count(name) > 1})
    if doubled:
        raise ImportFileError(_("The column %(names)s appears twice in the header.") % {"names": ", ".join(doubled)})


# --- checking the rows against the tenant ---------------------------------------------------------

def check_rows(*, tenant, rows: list[ImportRow]) -> ImportCheck:
    """Fills each row's errors and resolved role, team and skills. A fixed number of queries."""
    roles = {role.name.lower(): role for role in Role.objects.filter(tenant=tenant)}
    teams = {team.name.lower(): team for team in Team.objects.filter(tenant=tenant)}
    skills = {skill.name.lower(): skill for skill in Skill.objects.filter(tenant=tenant)}
    taken = usernames_taken({row.username for row in rows if row.username})
    first_line: dict[str, int] = {}
    for row in rows:
        _check_username(row, taken, first_line)
        _check_names(row)
        _check_choice_fields(row, roles=roles, teams=teams)
        _check_skills(row, skills)
        _check_active(row)
    return ImportCheck(rows=rows)


def _check_username(row: ImportRow, taken: set[str], first_line: dict[str, int]) -> None:
    username = row.username
    if not username:
        row.errors.append(_("Enter a username."))
        return
    if len(username) > 150:
        row.errors.append(_("The username is longer than 150 characters."))
    try:
        _username_validator(username)
    except ValidationError:
        row.errors.append(_("The username may contain only letters, digits and @ . + - _."))
    key = username_key(username)  # as sign-in compares: "ａｇｅｎｔ" and "Agent" are "agent"
    if key in first_line:
        row.errors.append(_("The username “%(username)s” is also on line %(line)s of this file.")
                          % {"username": username, "line": first_line[key]})
    else:
        first_line[key] = row.line
    if key in taken:
        row.errors.append(_("The username “%(username)s” is already taken on the platform.") % {"username": username})


def _check_names(row: ImportRow) -> None:
    for column, label in (("first_name", _("first name")), ("last_name", _("last name"))):
        if len(row.values.get(column, "")) > 150:
            row.errors.append(_("The %(field)s is longer than 150 characters.") % {"field": label})
    email = row.values.get("email", "")
    if email:
        try:
            validate_email(email)
            if len(email) > 254:
                raise ValidationError("too long")
        except ValidationError:
            row.errors.append(_("“%(email)s” is not a valid email address.") % {"email": email})


def _check_choice_fields(row: ImportRow, *, roles: dict, teams: dict) -> None:
    role = row.values.get("role", "")
    if not role:
        row.errors.append(_("Enter a role."))
    elif role.lower() not in roles:
        row.errors.append(_("Unknown role “%(role)s”. This tenant's roles: %(roles)s.")
                          % {"role": role, "roles": ", ".join(sorted(r.name for r in roles.values()))})
    else:
        row.role = roles[role.lower()]
    team = row.values.get("team", "")
    if team:
        if team.lower() in teams:
            row.team = teams[team.lower()]
        else:
            row.errors.append(_("Unknown team “%(team)s”. Create it under Teams first, or leave the column empty.")
                              % {"team": team})


def _check_skills(row: ImportRow, skills: dict) -> None:
    text = row.values.get("skills", "")
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, separator, level = item.rpartition(":")
        name, level = name.strip(), level.strip()
        if not separator or not name:
            row.errors.append(_("Write each skill as Name:proficiency, e.g. “Billing:3”; “%(item)s” has no "
                                "proficiency.") % {"item": item})
            continue
        skill = skills.get(name.lower())
        if skill is None:
            row.errors.append(_("Unknown skill “%(skill)s”. Create it under Skills first.") % {"skill": name})
            continue
        if not level.isdigit() or not PROFICIENCY_MIN <= int(level) <= PROFICIENCY_MAX:
            row.errors.append(_("The proficiency of “%(skill)s” is “%(level)s”; use a whole number from %(min)s "
                                "(best) to %(max)s.") % {"skill": skill.name, "level": level,
                                                         "min": PROFICIENCY_MIN, "max": PROFICIENCY_MAX})
            continue
        if skill in row.skills:
            row.errors.append(_("“%(skill)s” is listed twice.") % {"skill": skill.name})
            continue
        row.skills[skill] = int(level)


def _check_active(row: ImportRow) -> None:
    value = row.values.get("active", "").lower()
    if value in YES or not value:
        row.active = True
    elif value in NO:
        row.active = False
    else:
        row.errors.append(_("Active must be yes or no, not “%(value)s”.") % {"value": row.values.get("active")})


# --- the import -----------------------------------------------------------------------------------

@tenant_atomic
def users_import(*, tenant, content: bytes, actor: Actor) -> list[User]:
    """Creates every user in the file, or none: raises ApplicationError when any row is bad."""
    check = check_rows(tenant=tenant, rows=read_rows(content))
    if not check.ok:
        count = len(check.bad_rows)
        raise ApplicationError(ngettext(
            "%(count)s row has an error; nothing was imported. Correct the file and upload it again.",
            "%(count)s rows have errors; nothing was imported. Correct the file and upload it again.",
            count) % {"count": count})
    users = []
    for row in check.rows:
        user = User(username=row.username, tenant=tenant, role=row.role, first_name=row.values.get("first_name", ""),
                    last_name=row.values.get("last_name", ""), email=row.values.get("email", ""),
                    is_active=row.active)
        user.set_unusable_password()
        users.append(user)
    try:
        with transaction.atomic(using=CONTROL):
            users = User.objects.bulk_create(users, batch_size=BATCH)
    except IntegrityError:
        # Someone created one of these usernames between the check and the insert.
        raise ApplicationError(_("One of the usernames was taken while the file was being imported; nothing was "
                                 "imported. Upload the file again to see which.")) from None
    profiles = AgentProfile.objects.bulk_create(
        [AgentProfile(tenant=tenant, user=user, team=row.team, active=row.active)
         for user, row in zip(users, check.rows, strict=True)], batch_size=BATCH)
    SkillAssignment.objects.bulk_create(
        [SkillAssignment(tenant=tenant, agent=profile, skill=skill, proficiency=level)
         for profile, row in zip(profiles, check.rows, strict=True) for skill, level in row.skills.items()],
        batch_size=BATCH)
    audit_record(action="agent.import", by=actor, tenant=tenant,
                 changes={"count": len(users), "usernames": [user.username for user in users[:100]]})
    return users
