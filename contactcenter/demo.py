"""Demo configuration for Classics Inc.: teams, skills on every channel, hours with holidays, points of
contact, dispositions, unavailable codes, tags, and a floor of agents and supervisors with skills.

Idempotent: every entry is looked up by its natural key first and only created when missing, so
running seed_demo again changes nothing. Writes go through the services (and so are audited).
"""

import random
from datetime import date, time

from django.contrib.auth.hashers import check_password, make_password

from accounts.models import Role, User
from accounts.roles import AGENT, SUPERVISOR
from accounts.services import user_create
from audit.services import Actor

from . import services
from .models import (
    AgentProfile,
    Disposition,
    HoursOfOperation,
    PointOfContact,
    Skill,
    Tag,
    Team,
    UnavailableCode,
)

TENANT = "Classics Inc."
DOMAIN = "classics.example.com"

TEAMS = [
    ("Billing Support", "Invoices, payments and refunds."),
    ("Technical Support", "Troubleshooting for the Classics apps and devices."),
    ("Customer Care", "General questions and account changes."),
    ("Sales", "Outbound campaigns and inbound sales chats."),
    ("Digital Engagement", "Email, SMS, social media and back-office cases."),
]

# name, channel, direction, description
SKILLS = [
    ("Billing Inquiries", "phone", "inbound", "Questions about invoices and payments."),
    ("Technical Support", "phone", "inbound", "Troubleshooting by phone."),
    ("Account Changes", "phone", "inbound", "Address, plan and ownership changes."),
    ("Sales Outreach", "phone", "outbound", "Outbound sales campaigns."),
    ("Collections", "phone", "outbound", "Reminders about overdue invoices."),
    ("Web Chat Support", "chat", "inbound", "Help chat on the website."),
    ("Chat Sales", "chat", "inbound", "Sales chat in the online shop."),
    ("Email Support", "email", "inbound", "The support and billing mailboxes."),
    ("Email Follow-up", "email", "outbound", "Follow-ups on open cases."),
    ("SMS Support", "sms", "inbound", "Two-way text messaging."),
    ("SMS Notifications", "sms", "outbound", "Appointment and payment reminders."),
    ("Social Media Care", "social", "inbound", "Mentions and direct messages."),
    ("Back-office Cases", "work_item", "inbound", "Cases from the customer portal."),
]


def _week(opens: time, closes: time, saturday=None, sunday=None) -> dict:
    return {**{day: (opens, closes) for day in range(5)}, 5: saturday, 6: sunday}


US_HOLIDAYS = [
    {"date": date(2026, 11, 26), "name": "Thanksgiving Day", "closed": True},
    {"date": date(2026, 11, 27), "name": "Day after Thanksgiving", "closed": False,
     "opens_at": time(9), "closes_at": time(15)},
    {"date": date(2026, 12, 24), "name": "Christmas Eve", "closed": False, "opens_at": time(8), "closes_at": time(13)},
    {"date": date(2026, 12, 25), "name": "Christmas Day", "closed": True},
    {"date": date(2026, 12, 31), "name": "New Year's Eve", "closed": False, "opens_at": time(8), "closes_at": time(14)},
    {"date": date(2027, 1, 1), "name": "New Year's Day", "closed": True},
    {"date": date(2027, 1, 18), "name": "Martin Luther King Jr. Day", "closed": True},
    {"date": date(2027, 5, 31), "name": "Memorial Day", "closed": True},
    {"date": date(2027, 7, 5), "name": "Independence Day (observed)", "closed": True},
]

# name, time zone, description, week, exceptions
HOURS = [
    ("Standard Business Hours", "America/New_York", "Phone lines for billing and account services.",
     _week(time(8), time(18), saturday=(time(9), time(13))), US_HOLIDAYS),
    ("Extended Support Hours", "America/Chicago", "Technical support, chat, SMS and social media.",
     _week(time(7), time(22), saturday=(time(9), time(17)), sunday=(time(9), time(17))),
     [h for h in US_HOLIDAYS if h["name"] in ("Thanksgiving Day", "Christmas Day", "New Year's Day")]),
    ("Always Open", "UTC", "Mailboxes and the case portal: queued around the clock.",
     {day: (time(0), time(23, 59)) for day in range(7)}, []),
]

# name, channel, address, skill, hours
POINTS_OF_CONTACT = [
    ("Main Support Line", "phone", "+18005550100", "Technical Support", "Extended Support Hours"),
    ("Billing Hotline", "phone", "+18005550101", "Billing Inquiries", "Standard Business Hours"),
    ("Account Services Line", "phone", "+18005550102", "Account Changes", "Standard Business Hours"),
    ("Sales Caller ID", "phone", "+18005550103", "Sales Outreach", "Standard Business Hours"),
    ("Website Chat", "chat", "classics-web-help", "Web Chat Support", "Extended Support Hours"),
    ("Shop Chat", "chat", "classics-shop", "Chat Sales", "Extended Support Hours"),
    ("Support Mailbox", "email", f"support@{DOMAIN}", "Email Support", "Always Open"),
    ("Billing Mailbox", "email", f"billing@{DOMAIN}", "Email Support", "Always Open"),
    ("Text Us", "sms", "+14155550104", "SMS Support", "Extended Support Hours"),
    ("Social Care Account", "social", "@classics_help", "Social Media Care", "Extended Support Hours"),
    ("Customer Portal Cases", "work_item", "classics-portal", "Back-office Cases", "Always Open"),
]

INBOUND = [name for name, _c, direction, _d in SKILLS if direction == "inbound"]
# name, classification, skills
DISPOSITIONS = [
    ("Issue Resolved", "resolved", INBOUND),
    ("Payment Taken", "resolved", ["Billing Inquiries", "Collections"]),
    ("Refund Requested", "follow_up", ["Billing Inquiries", "Email Support"]),
    ("Escalated to Tier 2", "follow_up", ["Technical Support", "Web Chat Support", "Email Support"]),
    ("Callback Scheduled", "follow_up", ["Sales Outreach", "Collections", "Billing Inquiries"]),
    ("Sale Completed", "resolved", ["Sales Outreach", "Chat Sales"]),
    ("Not Interested", "unresolved", ["Sales Outreach", "Chat Sales"]),
    ("Customer Abandoned", "unresolved", ["Web Chat Support", "Chat Sales", "Social Media Care"]),
    ("No Answer", "not_reached", ["Sales Outreach", "Collections", "SMS Notifications"]),
    ("Left Voicemail", "not_reached", ["Sales Outreach", "Collections"]),
    ("Wrong Number", "not_reached", ["Sales Outreach", "Collections", "SMS Notifications"]),
    ("Duplicate Case", "resolved", ["Back-office Cases", "Email Support", "Email Follow-up"]),
]

UNAVAILABLE_CODES = [("Break", False), ("Lunch", False), ("Meeting", False), ("Training", False),
                     ("Coaching", False), ("System Issue", False), ("After-Contact Work (ACW)", True)]

TAGS = [
    ("VIP", "Premium-plan customers."),
    ("Complaint", "The customer is unhappy with us."),
    ("Escalation", "Handed to a supervisor or Tier 2."),
    ("Billing Dispute", "The customer disputes a charge."),
    ("Cancellation Risk", "Mentioned cancelling."),
    ("Product Feedback", "Ideas and requests for the product team."),
    ("Outage", "Related to a known service outage."),
    ("Repeat Contact", "Second contact about the same issue."),
    ("Compliance", "Needs a compliance review."),
    ("Survey Opt-in", "Agreed to the satisfaction survey."),
]

# Which skills a team's agents hold (the first ones most often).
TEAM_SKILLS = {
    "Billing Support": ["Billing Inquiries", "Email Support", "Collections", "Account Changes"],
    "Technical Support": ["Technical Support", "Web Chat Support", "Email Support", "Back-office Cases"],
    "Customer Care": ["Account Changes", "Web Chat Support", "Billing Inquiries", "Technical Support"],
    "Sales": ["Sales Outreach", "Chat Sales", "Email Follow-up", "SMS Notifications"],
    "Digital Engagement": ["Email Support", "Social Media Care", "SMS Support", "Back-office Cases",
                           "Email Follow-up"],
}

FIRST_NAMES = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas",
               "Mia", "Levi", "Amelia", "Ezra", "Harper", "Asher", "Evelyn", "Leo", "Aria", "Kai",
               "Chloe", "Jack", "Layla", "Owen", "Nora", "Hudson", "Zoe", "Miles", "Lily", "Theo",
               "Hazel", "Ravi", "Aaliyah", "Diego", "Mei", "Tomasz", "Fatima", "Kwame", "Ingrid", "Hamid",
               "Priya", "Jonah", "Sofia", "Malik", "Yusuf"]
LAST_NAMES = ["Anderson", "Nguyen", "Garcia", "Okafor", "Schneider", "Kowalski", "Haddad", "Johansson", "Patel",
              "Rossi", "Kim", "Moreno", "Fischer", "Silva", "Dubois", "Tanaka", "Murphy", "Cohen", "Novak",
              "Mensah", "Larsen", "Santos", "Ibrahim", "Walker", "Chen", "Bauer", "Costa", "Reyes", "O'Brien",
              "Yilmaz", "Sato", "Lindqvist", "Abara", "Horvat", "Ferreira", "Ahmed", "Wright", "Jovanovic",
              "Mahlangu", "Park", "Esposito", "Brennan", "Castillo", "Adeyemi", "Kaya"]
AGENTS_PER_TEAM = 8

# The named demo people (accounts.demo) get an agent side too: username -> (team, {skill: proficiency}).
NAMED_PEOPLE = {
    "admin": (None, {}),
    "supervisor": ("Customer Care", {"Account Changes": 1, "Billing Inquiries": 3}),
    "agent": ("Customer Care", {"Account Changes": 2, "Web Chat Support": 5, "Technical Support": 9}),
    "agent2": ("Billing Support", {"Billing Inquiries": 2, "Email Support": 6}),
}


def _by_name(model, tenant) -> dict:
    return {obj.name: obj for obj in model.objects.filter(tenant=tenant)}


def _missing(model, tenant, name: str) -> bool:
    return not model.objects.filter(tenant=tenant, name__iexact=name).exists()


def seed(*, tenants, people, password: str) -> dict[str, int]:
    """Fills Classics Inc.; returns how many entries of each type it has afterwards."""
    tenant = tenants[TENANT]
    actor = Actor.system()
    for name, description in TEAMS:
        if _missing(Team, tenant, name):
            services.team_create(tenant=tenant, name=name, description=description, actor=actor)
    for name, channel, direction, description in SKILLS:
        if _missing(Skill, tenant, name):
            services.skill_create(tenant=tenant, name=name, channel=channel, direction=direction,
                                  description=description, actor=actor)
    for name, zone, description, week, exceptions in HOURS:
        if _missing(HoursOfOperation, tenant, name):
            services.hours_create(tenant=tenant, name=name, timezone=zone, description=description, week=week,
                                  exceptions=exceptions, actor=actor)
    skills, hours = _by_name(Skill, tenant), _by_name(HoursOfOperation, tenant)
    for name, channel, address, skill, hours_name in POINTS_OF_CONTACT:
        if _missing(PointOfContact, tenant, name):
            services.point_of_contact_create(tenant=tenant, name=name, channel=channel, address=address,
                                             skill=skills[skill], hours=hours[hours_name], actor=actor)
    for name, classification, skill_names in DISPOSITIONS:
        if _missing(Disposition, tenant, name):
            services.disposition_create(tenant=tenant, name=name, classification=classification,
                                        skills=[skills[s] for s in skill_names], actor=actor)
    for name, after_contact_work in UNAVAILABLE_CODES:
        if _missing(UnavailableCode, tenant, name):
            services.unavailable_code_create(tenant=tenant, name=name, after_contact_work=after_contact_work,
                                             actor=actor)
    for name, description in TAGS:
        if _missing(Tag, tenant, name):
            services.tag_create(tenant=tenant, name=name, description=description, actor=actor)
    _seed_people(tenant=tenant, people=people, password=password)
    return counts(tenant)


def _seed_people(*, tenant, people, password: str) -> None:
    roles = {role.name: role for role in Role.objects.filter(tenant=tenant)}
    teams, skills = _by_name(Team, tenant), _by_name(Skill, tenant)
    for username, (team, levels) in NAMED_PEOPLE.items():
        user = people.get(username) or User.objects.filter(tenant=tenant, username__iexact=username).first()
        if user is not None and not AgentProfile.objects.filter(tenant=tenant, user=user).exists():
            _set_agent_side(user, team=teams[team] if team else None,
                            skills={skills[name]: level for name, level in levels.items()})

    # The generated floor: one supervisor and AGENTS_PER_TEAM agents per team.
    rng = random.Random(2026)  # noqa: S311 -- not a secret: the same demo people every time
    names = iter(zip(FIRST_NAMES, LAST_NAMES, strict=True))
    new_users, existing_users = [], []
    for team_name, team_skills in TEAM_SKILLS.items():
        for position in range(AGENTS_PER_TEAM + 1):
            first, last = next(names)
            username = f"{first}.{last}".lower().replace("'", "")
            is_supervisor = position == 0
            held = team_skills if is_supervisor else team_skills[:rng.randint(2, min(4, len(team_skills)))]
            levels = {skills[name]: (rng.randint(1, 5) if i == 0 else rng.randint(3, 15))
                      for i, name in enumerate(held)}
            existing = User.objects.filter(tenant=tenant, username__iexact=username).first()
            if existing is not None:
                existing_users.append(existing)
                continue
            # Two agents are on leave: inactive, so they take no contacts.
            active = not (position == AGENTS_PER_TEAM and team_name in ("Sales", "Technical Support"))
            user = user_create(username=username, password=None, tenant=tenant,
                               role=roles[SUPERVISOR if is_supervisor else AGENT], first_name=first, last_name=last,
                               email=f"{username}@{DOMAIN}", actor=Actor.system())
            _set_agent_side(user, team=teams[team_name], skills=levels, active=active)
            new_users.append(user.pk)
    # The command prints the password it was given: the people already there get it too, unless they have it.
    # They share the demo password, hashed once: hashing each would slow the demo start by half a minute.
    hashes = {user.password for user in existing_users}
    stale = {encoded for encoded in hashes if not check_password(password, encoded)}
    new_users += [user.pk for user in existing_users if user.password in stale]
    if new_users:
        User.objects.filter(pk__in=new_users).update(password=make_password(password))


def _set_agent_side(user: User, *, team, skills: dict, active: bool = True) -> None:
    services.agent_update(user=user, username=user.username, role=user.role, first_name=user.first_name,
                          last_name=user.last_name, email=user.email, team=team, active=active, skills=skills,
                          actor=Actor.system())


def counts(tenant) -> dict[str, int]:
    models = {"teams": Team, "skills": Skill, "hours of operation": HoursOfOperation,
              "points of contact": PointOfContact, "dispositions": Disposition,
              "unavailable codes": UnavailableCode, "tags": Tag}
    result = {label: model.objects.filter(tenant=tenant).count() for label, model in models.items()}
    result["users"] = User.objects.filter(tenant=tenant).count()
    result["agent profiles"] = AgentProfile.objects.filter(tenant=tenant).count()
    return result

