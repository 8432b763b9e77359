"""Switching a BCP pair to its BCP tenant and back: the passkey, its throttle, the readiness gate, the flip."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import Actor, audit_record
from bcp_project import texts
from bcp_project.celery import BROKER_ERRORS
from bcp_project.exceptions import ApplicationError
from bcp_project.regions import CONTROL, RegionUnavailable
from bcp_project.templatetags.times import when_text
from sync import carryback
from sync.models import SyncConfiguration, SyncRun
from sync.services import SyncError, sync_fence_move, sync_run_request
from tenants.bcp.services import passkey_matches
from tenants.models import BcpMapping

from .models import PasskeyAttempt, Switch
from .notices import administrator_addresses, person_named
from .routing import epoch_cache_set
from .selectors import readiness
from .signals import tenant_switched
from .tasks import switch_mail_everyone

logger = logging.getLogger(__name__)

THROTTLE_LIMIT = 5
THROTTLE_WINDOW = timedelta(minutes=15)
REASON_MAX = 500


class EnablementError(ApplicationError):
    pass


class PasskeyThrottled(EnablementError):
    def __init__(self, retry_at: datetime):
        self.retry_at = retry_at
        super().__init__(_("Too many wrong passkeys: %(limit)d in %(minutes)d minutes. You can try again at "
                           "%(time)s. If you do not have the passkey, ask your account representative.")
                         % {"limit": THROTTLE_LIMIT, "minutes": THROTTLE_WINDOW.total_seconds() // 60,
                            "time": when_text(retry_at)}, field="passkey")


class PasskeyWrong(EnablementError):
    def __init__(self, left: int):
        self.left = left
        super().__init__(_("That passkey is not right, and nothing was changed. Check it (it was shown once when "
                           "BCP was set up) and try again; %(left)d more tries before a 15-minute wait.")
                         % {"left": left} if left else
                         _("That passkey is not right, and nothing was changed. That was the last try for now: wait "
                           "15 minutes, or ask your account representative for the passkey."), field="passkey")


class SwitchRefused(EnablementError):
    pass


class NeedsReason(EnablementError):
    """The switch is possible, but a check failed: the person must say why they switch anyway."""

    def __init__(self, checks):
        self.checks = checks
        super().__init__(_("Not everything is ready for the switch (see below). To switch anyway, tick “Switch "
                           "anyway” and give a reason; it is kept in the audit log."), field="reason")


class ReviewChanges(EnablementError):
    """Switching back would overwrite work done on the BCP tenant that was not reviewed: refused (409)."""


@dataclass(frozen=True)
class SwitchResult:
    mapping: BcpMapping
    changed: bool
    # On a switch back: what was carried back to the primary and what was left to the primary's version.
    carried: list = ()
    kept: list = ()
    # On a switch back: the forward sync that makes the BCP tenant's copies the primary's again, SYNC_QUEUED (or
    # already waiting or running), SYNC_DISABLED (it runs only when Sync is enabled) or SYNC_NOT_STARTED.
    sync: str = ""


SYNC_QUEUED, SYNC_DISABLED, SYNC_NOT_STARTED = "queued", "disabled", "not_started"


def _attempts_window(*, mapping: BcpMapping, user, now: datetime):
    return PasskeyAttempt.objects.filter(mapping=mapping, user=user, succeeded=False, at__gt=now - THROTTLE_WINDOW)


def passkey_verify(*, mapping: BcpMapping, passkey: str, actor: Actor, purpose: str = "switch") -> None:
    """Raises unless the passkey is right and the person is not throttled. Every attempt is kept (committed even
    when the caller's work fails), and wrong ones are audited: after THROTTLE_LIMIT wrong passkeys in
    THROTTLE_WINDOW for one person and pair, even the right one is refused until the window has passed."""
    now = timezone.now()
    with transaction.atomic(using=CONTROL):
        # Serialises the attempts of one pair, so that two at once cannot both slip under the limit.
        BcpMapping.objects.locked().filter(pk=mapping.pk).values_list("pk").first()
        wrong = list(_attempts_window(mapping=mapping, user=actor.user, now=now).order_by("at")
                     .values_list("at", flat=True))
        retry_at = right = None
        if len(wrong) >= THROTTLE_LIMIT:
            retry_at = wrong[-THROTTLE_LIMIT] + THROTTLE_WINDOW
            audit_record(action="enablement.passkey_throttled", by=actor, tenant=mapping.primary, obj=mapping,
                         changes={"purpose": purpose, "retry_at": retry_at.isoformat()})
        else:
            right = passkey_matches(mapping, passkey)
            PasskeyAttempt.objects.create(mapping=mapping, user=actor.user, at=now, succeeded=right)
            if not right:
                audit_record(action="enablement.passkey_wrong", by=actor, tenant=mapping.primary, obj=mapping,
                             changes={"purpose": purpose, "wrong_in_window": len(wrong) + 1})
    # Raised after the commit: the attempt and its audit row stay.
    if retry_at is not None:
        raise PasskeyThrottled(retry_at)
    if not right:
        raise PasskeyWrong(left=max(0, THROTTLE_LIMIT - len(wrong) - 1))


def tenant_switch(*, mapping: BcpMapping, to_side: str, passkey: str, actor: Actor, force: bool = False,
                  reason: str = "", on_behalf: bool = False, choices: dict[str, str] | None = None,
                  changes_token: str | None = None) -> SwitchResult:
    """Makes `to_side` the active tenant of the pair. The passkey is checked (and throttled) first; then, in one
    transaction holding the mapping's row lock, the active side flips, the routing epoch increments (every
    session of the pair must sign in again), and the switch is recorded: a Switch row and its audit row. The
    lock is BcpMapping.objects.locked().

    Before the pair flips, the sync's fence moves in the backup's region (its own transaction, committed first):
    a sync run that started before it rolls back at its commit, and one that is committing now is waited for
    (a few milliseconds, never the run). A crash between the two writes leaves a moved fence and an unflipped
    pair, which the next run simply reads (sync.services.sync_fence_move).

    A switch back first carries back what the administrator chose of the changes made on the BCP tenant
    (`choices` per record, `changes_token` the list they were shown: see _carry_back), committed before this
    transaction: the carry-back commits the control plane itself (roles and users), before its correlations.
    Inside the switch's lock the list is read once more: a switch back is refused if a record changed there since
    (what was carried back stays carried back)."""
    if to_side not in BcpMapping.Side.values:
        raise EnablementError(_("Choose which tenant should be active."), field="to_side")
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise EnablementError(_("Keep the reason under %(max)d characters.") % {"max": REASON_MAX}, field="reason")
    passkey_verify(mapping=mapping, passkey=passkey, actor=actor)
    carried = kept = []
    if to_side == BcpMapping.Side.PRIMARY:
        current = BcpMapping.objects.select_related("primary", "secondary").get(pk=mapping.pk)
        if current.active_side != to_side:
            carried, kept = _carry_back(current, choices=choices or {}, token=changes_token, actor=actor)
    with transaction.atomic(using=CONTROL):
        locked = BcpMapping.objects.locked().select_related("primary", "secondary").get(pk=mapping.pk)
        if locked.active_side == to_side:
            return SwitchResult(mapping=locked, changed=False, carried=carried, kept=kept)
        overridden = []
        if to_side == BcpMapping.Side.SECONDARY:
            state = readiness(mapping=locked)
            if state.blocking:
                raise SwitchRefused(texts.join(" ", (check.text for check in state.blocking)))
            if state.overridable:
                if not force or not reason:
                    raise NeedsReason(state.overridable)
                overridden = [check.key for check in state.overridable]
        if carried or kept:
            _nothing_new_since(locked, kept=kept)
        backup_down = False
        try:
            sync_fence_move(mapping=locked)
        except RegionUnavailable:
            if to_side == BcpMapping.Side.SECONDARY:
                raise
            # Back to the primary with the backup's region down: no run can commit there either.
            logger.warning("switch of pair %s back to the primary: the sync fence could not be moved (its region "
                           "does not answer)", locked.pk)
            backup_down = True
        now = timezone.now()
        previous = locked.active_side
        locked.active_side = to_side
        locked.routing_epoch += 1
        locked.active_since = now
        locked.switched_by = actor.user
        locked.save(update_fields=["active_side", "routing_epoch", "active_since", "switched_by", "updated_at"])
        event = audit_record(action="enablement.switch", by=actor, tenant=locked.primary, obj=locked,
                             changes={"from": previous, "to": to_side, "routing_epoch": locked.routing_epoch,
                                      "on_behalf": on_behalf, "switched_anyway": overridden, "reason": reason,
                                      **({"carried_back": [item.key for item in carried],
                                          "primary_version_stands": [item.key for item in kept]}
                                         if carried or kept else {})})
        # At the audit row's instant, so that the two tell the same time.
        switch = Switch.objects.create(
            mapping=locked, primary=locked.primary, from_side=previous, to_side=to_side, by=actor.user,
            by_name=actor.name, acting_as=actor.acting_as, on_behalf=on_behalf, at=event.created_at,
            ip_address=actor.ip_address, switched_anyway=overridden, reason=reason,
            routing_epoch=locked.routing_epoch, audit_event=event)
        epoch, mapping_id = locked.routing_epoch, locked.pk
        transaction.on_commit(lambda: epoch_cache_set(mapping_id=mapping_id, epoch=epoch), using=CONTROL)
        transaction.on_commit(lambda: _notify_switch(locked, actor=actor), using=CONTROL)
        switch_id = switch.pk
        transaction.on_commit(lambda: _enqueue_everyone_mail(switch_id), using=CONTROL)
        transaction.on_commit(lambda: _announce_switch(locked, to_side=to_side, event=event, switch=switch),
                              using=CONTROL)
        sync = (_sync_after_switch_back(locked, actor=actor, backup_down=backup_down)
                if to_side == BcpMapping.Side.PRIMARY else "")
    return SwitchResult(mapping=locked, changed=True, carried=carried, kept=kept, sync=sync)


def _sync_after_switch_back(mapping: BcpMapping, *, actor: Actor, backup_down: bool) -> str:
    """Inside the switch back's transaction: once it commits, the pair's forward sync is requested (the service
    behind Sync now, whose task goes by name after its own commit), so that what was not carried back is
    overwritten now and not at the next scheduled run, which may be a day away. Only when the pair's Sync is
    enabled and the backup's region answers. Returns what the person is told."""
    if not SyncConfiguration.objects.filter(mapping=mapping, enabled=True).exists():
        return SYNC_DISABLED
    if backup_down:
        return SYNC_NOT_STARTED
    transaction.on_commit(lambda: _request_sync(mapping, actor=actor), using=CONTROL)
    return SYNC_QUEUED


def _request_sync(mapping: BcpMapping, *, actor: Actor) -> None:
    """The switch back has committed and stands whatever happens here."""
    try:
        sync_run_request(tenant=mapping.primary, actor=actor, trigger=SyncRun.Trigger.SWITCH_BACK)
    except SyncError:
        logger.info("switch of pair %s back to the primary: a sync run is already waiting or running", mapping.pk)
    except RegionUnavailable:
        logger.warning("switch of pair %s back to the primary: the sync could not be requested (the backup's "
                       "region does not answer); the next scheduled run overwrites the copies", mapping.pk)


def _carry_back(mapping: BcpMapping, *, choices: dict[str, str], token: str | None, actor: Actor):
    """Before a switch back: the changes made on the BCP tenant while it was active are carried back as chosen
    (sync.carryback), or the switch is refused. Nothing is overwritten that the administrator was not shown: a
    switch back without the token of the list, while there is one, is refused; so is one whose list changed. With
    the backup's region down nothing there can be read or carried back, and the switch goes on (the sync cannot
    overwrite anything there either until it answers). Returns (carried, kept)."""
    changes = carryback.bcp_changes(mapping=mapping)
    if changes.primary_unavailable:
        raise SwitchRefused(_("%(error)s Switching back waits until it answers: the changes made on the BCP "
                              "tenant must be compared with the primary first.")
                            % {"error": RegionUnavailable(changes.unavailable).message})
    if changes.unavailable is not None:
        logger.warning("switch of pair %s back to the primary: the changes on the BCP tenant could not be read "
                       "(its region does not answer)", mapping.pk)
        return [], []
    if token is None:
        if changes.items:
            raise ReviewChanges(_("Records were created, edited or deleted on the BCP tenant while it was "
                                  "active. Under “Changes on the BCP tenant”, choose for each whether it is "
                                  "carried back, then review the switch back."))
        return [], []
    try:
        result = carryback.carry_back(mapping=mapping, choices=choices, token=token, actor=actor)
    except carryback.ChangesMoved as exc:
        raise ReviewChanges(exc.message) from exc
    except carryback.CarryBackError as exc:
        raise EnablementError(exc.message) from exc
    return result.carried, result.kept


def _nothing_new_since(mapping: BcpMapping, *, kept: list) -> None:
    """After the carry-back (its own commits), under the switch's lock: what is left on the list is what the
    administrator let the primary's version overwrite, or the switch back is refused (the records carried back stay
    carried back)."""
    changes = carryback.bcp_changes(mapping=mapping, repair=False)
    if changes.unavailable is None and {item.key for item in changes.items} - {item.key for item in kept}:
        raise ReviewChanges(_("What you chose was carried back to the primary, but a record on the BCP tenant "
                              "changed since the list was shown, so nothing was switched. Review the list again "
                              "and choose for each record."))


def _announce_switch(mapping: BcpMapping, *, to_side: str, event, switch: Switch) -> None:
    for receiver, response in tenant_switched.send_robust(sender=BcpMapping, mapping=mapping, to_side=to_side,
                                                          event=event, switch=switch):
        if isinstance(response, Exception):
            logger.error("a tenant_switched receiver failed: %s", receiver, exc_info=response)


def _enqueue_everyone_mail(switch_id: int) -> None:
    """Everyone of the pair is emailed by a task, never inside the switch: a task queue that does not answer is
    logged, the switch stands, and beat's dispatcher sends the task once the queue is back
    (tasks.switch_mail_dispatch)."""
    try:
        switch_mail_everyone.delay(switch_id)
    except BROKER_ERRORS as exc:
        logger.warning("switch %s: the task queue did not answer (%s: %s); the email to everyone is sent by the "
                       "dispatcher once it is back", switch_id, type(exc).__name__, exc)
    except Exception:  # noqa: BLE001 - the switch has committed; the people who switch are emailed regardless
        logger.exception("switch %s: the email to everyone could not be queued", switch_id)


def _notify_switch(mapping: BcpMapping, *, actor: Actor) -> None:
    """The BCP administrators of both tenants and everyone subscribed to status alerts hear of every switch."""
    active = mapping.active_tenant
    for email, language in administrator_addresses(mapping).values():
        with translation.override(language or settings.LANGUAGE_CODE):
            if mapping.active_side == BcpMapping.Side.SECONDARY:
                subject = _("%(primary)s switched to its BCP tenant") % {"primary": mapping.primary.name}
            else:
                subject = _("%(primary)s is active again") % {"primary": mapping.primary.name}
            body = "\n\n".join([
                _("At %(time)s %(who)s made “%(active)s” the active tenant of “%(primary)s”.")
                % {"time": when_text(mapping.active_since), "who": person_named(actor.user, actor.name),
                   "active": active.name,
                   "primary": mapping.primary.name},
                _("Everyone who was signed in is asked to sign in again, with the same username and password, "
                  "at the same address. They land on “%(active)s”.") % {"active": active.name},
                _("My Profile shows which tenant you are in. BC Enablement in Admin switches back."),
            ])
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except Exception:  # noqa: BLE001 - the switch has happened; a mail server problem must not hide that
            logger.exception("switch email to a subscriber failed")
