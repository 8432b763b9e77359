"""Everyone in a BCP pair is told of a switch (issue 18, "Everyone told"):

- the notice after sign-in: each account sees once, on its first page after signing in, which tenant it is on now
  and why (the switch's reason, who switched and when). Claimed in the database (SwitchNoticeShown, one row per
  account and switch), so a second sign-in, or two at once, never show it again; the notice itself travels in
  the session, so it costs the pages nothing;
- the sign-in page of a browser the switch signed out names the tenant people land on now (the session keeps
  the pair, written by the routing middleware after it signs the session out);
- the pair message: written by an administrator of either tenant on BC Enablement, shown as a banner on every page
  to the users of both tenants and on the sign-in page of a browser signed out by the pair's switch, until it is
  removed. One cached read per page (the routing cache; one query without Redis);
- the email to everyone: after the switch commits, a Celery task emails every active user of both tenants who has
  an address and has not turned it off on My Profile, in their language. Addresses that already get the
  administrators' email of the switch (BCP administrators, status subscribers) get only that one.
"""

import logging
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import Actor, audit_record
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL
from bcp_project.templatetags.times import when_text
from status.selectors import subscriber_emails
from tenants.models import BcpMapping, Tenant

from .models import PairMessage, Switch, SwitchEmailSent, SwitchNoticeShown
from .selectors import enablement_holders

logger = logging.getLogger(__name__)

MESSAGE_MAX = 500
MESSAGE_CACHE = "routing"
MESSAGE_CACHE_SECONDS = 60
# Session keys. SIGNED_OUT_KEY: the pair of a browser the switch signed out, and the tenant it lands on now (read by
# the sign-in page; forgotten at the next sign-in). NOTICE_KEY: the switch notice waiting for the first page.
SIGNED_OUT_KEY = "bcp_signed_out"
NOTICE_KEY = "bcp_switch_notice"
# The email to everyone (switch_mail_everyone). A copy of the task renews its claim after each email; one not
# renewed for MAIL_LEASE is taken to be dead, and so is the wait after a mail server that took no email at all.
MAIL_LEASE = timedelta(minutes=5)
# A switch whose task has not claimed it this long after the switch gets the task again from the dispatcher (the
# task queue did not answer at commit); the same wait as a queued sync run's (sync.services.REQUEUE_AFTER).
MAIL_REQUEUE_AFTER = timedelta(seconds=90)
MAIL_GIVE_UP_AFTER = timedelta(days=1)
MAIL_DISPATCH_LIMIT = 100


class PairMessageError(ApplicationError):
    pass


# --- the pair message ------------------------------------------------------------------------------------------


def _message_key(mapping_id: int) -> str:
    return f"bcp:pair-message:{mapping_id}"


def person_named(user: User | None, stored: str) -> str:
    """Who wrote or switched, as the pages name people (full name, else username): the account's name now, or the
    name kept on the row when the account is gone."""
    return user.display_name if user is not None else stored


def _message_as_cached(message: PairMessage | None) -> dict:
    if message is None:
        return {}
    return {"text": message.text, "by": person_named(message.set_by, message.set_by_name),
            "at": message.set_at.isoformat()}


def _message_cache_set(mapping_id: int, value: dict) -> None:
    try:
        caches[MESSAGE_CACHE].set(_message_key(mapping_id), value, timeout=MESSAGE_CACHE_SECONDS)
    except Exception:  # noqa: BLE001 - without the cache, the page asks the database
        logger.warning("routing cache unavailable", exc_info=True)


def pair_message_get(*, mapping_id: int) -> dict:
    """The pair's message as {"text", "by", "at" (a datetime)}, or {} when there is none: from the cache when there
    is one (Redis in production), else one query."""
    try:
        value = caches[MESSAGE_CACHE].get(_message_key(mapping_id))
    except Exception:  # noqa: BLE001 - a cache that is down must not take the pages with it
        logger.warning("routing cache unavailable", exc_info=True)
        value = None
    if value is None:
        value = _message_as_cached(PairMessage.objects.select_related("set_by").filter(mapping_id=mapping_id).first())
        _message_cache_set(mapping_id, value)
    return {**value, "at": datetime.fromisoformat(value["at"])} if value else {}


def _behalf(on_behalf: bool) -> dict:
    """In the audit of a message: written by an account representative on the tenant's behalf (as a switch)."""
    return {"on_behalf": True} if on_behalf else {}


def _clean_message(text: str) -> str:
    text = "\n".join(line.rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = text.strip()
    if not text:
        raise PairMessageError(_("Write the message, or remove it with “Remove the message”."), field="text")
    if len(text) > MESSAGE_MAX:
        raise PairMessageError(_("Keep the message under %(max)d characters; it is %(length)d now.")
                               % {"max": MESSAGE_MAX, "length": len(text)}, field="text")
    if any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in text):
        raise PairMessageError(_("The message contains control characters. Type it again as plain text."),
                               field="text")
    return text


def pair_message_set(*, mapping: BcpMapping, text: str, actor: Actor, tenant: Tenant,
                     on_behalf: bool = False) -> PairMessage:
    """Writes (or replaces) the message for everyone in the pair, audited in `tenant`'s log (the tenant of the
    administrator who wrote it, or whose TM page the account representative wrote it on, `on_behalf` of it). The
    same text again writes nothing."""
    text = _clean_message(text)
    with transaction.atomic(using=CONTROL):
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        message = PairMessage.objects.filter(mapping=mapping).first()
        if message is not None and message.text == text:
            return message
        previous = message.text if message is not None else None
        if message is None:
            message = PairMessage(mapping=mapping)
        message.text, message.set_by, message.set_by_name, message.set_at = (text, actor.user, actor.name,
                                                                             timezone.now())
        message.save()
        audit_record(action="enablement.pair_message_set", by=actor, tenant=tenant, obj=mapping,
                     changes={"text": text, "previous": previous, **_behalf(on_behalf)}, using=CONTROL)
        value, mapping_id = _message_as_cached(message), mapping.pk
        transaction.on_commit(lambda: _message_cache_set(mapping_id, value), using=CONTROL)
    return message


def pair_message_remove(*, mapping: BcpMapping, actor: Actor, tenant: Tenant, on_behalf: bool = False) -> None:
    """Removes the pair's message: the banner goes from every page of both tenants. Audited with the text (and, for
    an account representative on TM, `on_behalf` of `tenant`)."""
    with transaction.atomic(using=CONTROL):
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        message = PairMessage.objects.filter(mapping=mapping).first()
        if message is None:
            raise PairMessageError(_("There is no message to remove: someone removed it already."))
        text = message.text
        message.delete()
        audit_record(action="enablement.pair_message_remove", by=actor, tenant=tenant, obj=mapping,
                     changes={"text": text, **_behalf(on_behalf)}, using=CONTROL)
        mapping_id = mapping.pk
        transaction.on_commit(lambda: _message_cache_set(mapping_id, {}), using=CONTROL)


# --- the sign-in page after a switch ----------------------------------------------------------------------------


def signed_out_remember(session, *, mapping_id: int) -> None:
    """The session was signed out because its pair switched: the sign-in page names the tenant it lands on now
    and shows the pair's message. Only a session of that pair gets this, so no other tenant's message shows."""
    mapping = BcpMapping.objects.select_related("primary", "secondary").filter(pk=mapping_id).first()
    if mapping is not None:
        session[SIGNED_OUT_KEY] = {"mapping": mapping.pk, "tenant": mapping.active_tenant.name,
                                   "side": mapping.active_side}


# --- the notice after sign-in -------------------------------------------------------------------------------


def switch_notice_claim(session, *, user: User, mapping_id: int, epoch: int) -> bool:
    """At sign-in: when the pair's last switch (the one that made `epoch`) has not been shown to this account yet,
    claim it and leave the notice in the session for the first page. An account made after a switch back to the
    primary is not told of it (nothing changed for them); on the BCP tenant everyone is."""
    switch = (Switch.objects.filter(mapping_id=mapping_id, routing_epoch=epoch)
              .select_related("mapping__primary", "mapping__secondary", "by").order_by("-pk").first())
    if switch is None or switch.mapping is None:
        return False
    if switch.to_side == BcpMapping.Side.PRIMARY and user.date_joined > switch.at:
        return False
    try:
        with transaction.atomic(using=CONTROL):
            SwitchNoticeShown.objects.create(user=user, switch=switch)
    except IntegrityError:
        return False  # shown already, or another sign-in of the same account took it a moment ago
    mapping = switch.mapping
    tenant = mapping.secondary if switch.to_side == BcpMapping.Side.SECONDARY else mapping.primary
    session[NOTICE_KEY] = {"tenant": tenant.name, "primary": mapping.primary.name, "side": switch.to_side,
                           "by": person_named(switch.by, switch.by_name), "at": switch.at.isoformat(),
                           "reason": switch.reason}
    return True


def switch_notice_pop(session) -> dict | None:
    notice = session.pop(NOTICE_KEY, None)
    if not notice:
        return None
    return {**notice, "at": datetime.fromisoformat(notice["at"])}


# --- the email to everyone ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailOutcome:
    sent: int = 0
    failed: int = 0
    # why nothing (more) was sent: "gone", "sent already", "sending" (another copy is), "switched again", "taken over"
    skipped: str = ""

    @property
    def server_down(self) -> bool:
        return self.sent == 0 and self.failed > 0


def administrator_addresses(mapping: BcpMapping) -> dict[str, tuple[str, str]]:
    """The addresses the administrators' email of a switch goes to (lower-cased -> (address, language)): the BCP
    administrators of both tenants and the status subscribers."""
    people = {}
    for tenant in (mapping.primary, mapping.secondary):
        for email, language in enablement_holders(tenant=tenant).exclude(email="").values_list("email", "language"):
            people.setdefault(email.lower(), (email, language))
    for email in subscriber_emails(tenants=[mapping.primary, mapping.secondary]):
        people.setdefault(email.lower(), (email, ""))
    return people


def everyone_addresses(mapping: BcpMapping) -> dict[str, tuple[str, str]]:
    """Every active user of both tenants with an address (lower-cased -> (address, language)), one email per
    address. A person and the sync's copy of them share it; an address is left out when any of its accounts has
    the emails turned off, and when it gets the administrators' email already."""
    rows = (User.objects.filter(tenant_id__in=[mapping.primary_id, mapping.secondary_id], is_active=True)
            .exclude(email="").order_by("is_bcp_copy", "pk").values_list("email", "language", "switch_emails"))
    chosen, off = {}, set()
    for email, language, wanted in rows:
        key = email.lower()
        if not wanted:
            off.add(key)
        chosen.setdefault(key, (email, language))
    skip = off | set(administrator_addresses(mapping))
    return {key: value for key, value in chosen.items() if key not in skip}


def switch_email(switch: Switch, *, to: str, language: str) -> EmailMessage:
    """The email to one person, in their language: the tenant they land on, who switched, when and why."""
    mapping = switch.mapping
    tenant = mapping.secondary if switch.to_side == BcpMapping.Side.SECONDARY else mapping.primary
    names = {"tenant": tenant.name, "primary": mapping.primary.name,
             "who": person_named(switch.by, switch.by_name) or _("an administrator")}
    with translation.override(language or settings.LANGUAGE_CODE):
        names["time"] = when_text(switch.at)
        if switch.to_side == BcpMapping.Side.SECONDARY:
            subject = _("%(primary)s switched to its BCP tenant: you now sign in to “%(tenant)s”") % names
            lines = [_("%(who)s switched %(primary)s to its BCP tenant “%(tenant)s” at %(time)s.") % names]
        else:
            subject = _("%(primary)s is active again: you now sign in to “%(tenant)s”") % names
            lines = [_("%(who)s switched back to the primary tenant “%(tenant)s” at %(time)s.") % names]
        if switch.reason:
            lines.append(_("Reason: %(reason)s") % {"reason": switch.reason})
        lines += [
            _("Sign in as always, at the same address with the same username and password: you land on "
              "“%(tenant)s”. After you sign in, the first page says so again.") % names,
            _("To stop these emails, untick “Email me when my organization switches between its primary and its "
              "BCP tenant” on My Profile."),
        ]
        return EmailMessage(subject, "\n\n".join(lines), settings.DEFAULT_FROM_EMAIL, [to])


def switch_mail_everyone(*, switch_id: int) -> MailOutcome:
    """Emails everyone of the pair about a committed switch (the Celery task's work), exactly once each as far as
    a mail server allows.

    A copy of the task first claims the switch (a conditional update of Switch.everyone_mail_claim: of two copies
    running at once, one gets it and the other mails nobody), then sends one email per address, recording each
    address (SwitchEmailSent) and renewing the claim right after the mail server took it; when everyone has had
    theirs, everyone_mailed_at is set and the claim let go. A worker that dies mid-way leaves the claim unrenewed:
    after MAIL_LEASE the dispatcher sends the task again, and that copy emails only the addresses not recorded. What
    cannot be avoided is the one email in flight when the worker died: the mail server took it but its address was
    not recorded yet, so that person gets it twice (recording first would instead lose it; telling someone twice
    of an outage is the lesser harm). A copy that finds its claim taken over (it stalled past MAIL_LEASE) stops
    after the email it was sending. When the mail server takes no email at all, the claim is given back and the
    dispatcher tries again after MAIL_LEASE. A switch the pair has left again since is not announced any more:
    its email would send people to the wrong tenant."""
    switch = (Switch.objects.select_related("mapping__primary", "mapping__secondary", "by")
              .filter(pk=switch_id).first())
    if switch is None or switch.mapping is None:
        return MailOutcome(skipped="gone")
    if switch.mapping.routing_epoch != switch.routing_epoch:
        return MailOutcome(skipped="switched again")
    token = uuid.uuid4().hex
    claimed = Switch.objects.filter(pk=switch_id, everyone_mailed_at__isnull=True).filter(
        Q(everyone_mail_claim="") | Q(everyone_mail_claimed_at__lt=timezone.now() - MAIL_LEASE)
    ).update(everyone_mail_claim=token, everyone_mail_claimed_at=timezone.now())
    if not claimed:
        sent_already = Switch.objects.filter(pk=switch_id, everyone_mailed_at__isnull=False).exists()
        return MailOutcome(skipped="sent already" if sent_already else "sending")
    done = set(SwitchEmailSent.objects.filter(switch_id=switch_id).values_list("address", flat=True))
    emails = [(key, switch_email(switch, to=email, language=language))
              for key, (email, language) in everyone_addresses(switch.mapping).items() if key not in done]
    sent = failed = 0
    held = True
    connection = get_connection()
    try:
        connection.open()
    except Exception:  # noqa: BLE001 - the switch has happened; a mail server that does not answer must not hide it
        logger.exception("switch %s: the mail server does not answer; %d emails to everyone not sent", switch_id,
                         len(emails))
        failed = len(emails)
    else:
        for key, email in emails:
            try:
                taken = connection.send_messages([email]) or 0
            except Exception:  # noqa: BLE001 - one refused address must not stop the others
                logger.exception("switch %s: an email to everyone failed", switch_id)
                taken = 0
            sent += taken
            failed += 0 if taken else 1
            held = _renew_claim(switch_id, token, sent_to=key if taken else None)
            if not held:
                logger.warning("switch %s: another copy of the email task took over; this one stops", switch_id)
                break
        connection.close()
    outcome = MailOutcome(sent=sent, failed=failed, skipped="" if held else "taken over")
    mine = Switch.objects.filter(pk=switch_id, everyone_mail_claim=token)
    if outcome.server_down:
        mine.update(everyone_mail_claim="")  # claimed_at stays: the dispatcher tries again after MAIL_LEASE
    elif held:
        mine.update(everyone_mailed_at=timezone.now(), everyone_mail_claim="")
    return outcome


def _renew_claim(switch_id: int, token: str, *, sent_to: str | None) -> bool:
    """Renews this copy's claim after an email, recording the address (`sent_to`) when the mail server took it;
    False when the claim is no longer this copy's (another took it over). The address is recorded either way: the
    other copy skips it, unless it read the list before this (then that person gets it twice; see
    switch_mail_everyone)."""
    with transaction.atomic(using=CONTROL):
        if sent_to is not None:
            SwitchEmailSent.objects.bulk_create([SwitchEmailSent(switch_id=switch_id, address=sent_to)],
                                                ignore_conflicts=True)
        return bool(Switch.objects.filter(pk=switch_id, everyone_mail_claim=token)
                    .update(everyone_mail_claimed_at=timezone.now()))


def switches_to_mail(*, now: datetime | None = None) -> list[int]:
    """The switches whose email to everyone the beat dispatcher sends again (enablement.tasks): not sent yet, still
    the pair's latest switch, and either never claimed MAIL_REQUEUE_AFTER after the switch (the task queue did not
    answer at commit, or lost the message) or claimed and not renewed for MAIL_LEASE (its worker died, or the mail
    server took nothing and the claim was given back). Switches older than MAIL_GIVE_UP_AFTER are left: an email a
    day late is news to nobody, and switches from before this dispatcher existed are not announced now."""
    now = now or timezone.now()
    return list(
        Switch.objects.filter(everyone_mailed_at__isnull=True, at__gt=now - MAIL_GIVE_UP_AFTER,
                              mapping__routing_epoch=F("routing_epoch"))
        .filter(Q(everyone_mail_claimed_at__isnull=True, at__lt=now - MAIL_REQUEUE_AFTER)
                | Q(everyone_mail_claimed_at__lt=now - MAIL_LEASE))
        .order_by("at", "pk").values_list("pk", flat=True)[:MAIL_DISPATCH_LIMIT])
