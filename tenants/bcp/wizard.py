"""Where the BCP wizard keeps its answers between steps: the representative's session, one entry per
tenant, never the database. Leaving the wizard leaves nothing behind but this entry, which the next
visit to the tab, Cancel, Save or half an hour's wait removes.

The passkey's text is never kept here, only its password hash, so a session row never holds it.
"""

import time
import uuid
from dataclasses import asdict, dataclass, fields

from django.utils.translation import gettext as _

SESSION_PREFIX = "bcp_wizard:"
MAX_AGE_SECONDS = 30 * 60

MODE_PRIMARY = "primary"
MODE_SECONDARY = "secondary"


class WizardGone(Exception):
    """The wizard state the request relies on is missing, expired or belongs to another run."""

    def __init__(self, message=None):
        super().__init__(message)
        self.message = message or _("This BCP set-up has ended: it was saved, cancelled or left open too long. "
                                    "Turn BCP on again to start over.")


@dataclass
class WizardState:
    id: str
    mode: str
    started_at: float
    mapping_id: int | None = None  # the mapping the BCP tenant joins (secondary mode)
    configurations: bool = False
    enablement: bool = False
    settings_done: bool = False
    region_id: int | None = None
    secondary_id: str | None = None
    validated: bool = False
    passkey_hash: str = ""
    finished: bool = False

    @property
    def expired(self) -> bool:
        return time.time() - self.started_at > MAX_AGE_SECONDS

    def choice_matches(self, *, region_id, secondary_id) -> bool:
        return self.region_id == region_id and self.secondary_id == secondary_id

    def forget_choice(self) -> None:
        self.validated = False
        self.passkey_hash = ""
        self.finished = False


def _key(tenant) -> str:
    return f"{SESSION_PREFIX}{tenant.pk}"


def wizard_start(request, *, tenant, mode: str, mapping_id: int | None = None) -> WizardState:
    state = WizardState(id=uuid.uuid4().hex, mode=mode, started_at=time.time(), mapping_id=mapping_id)
    wizard_store(request, tenant=tenant, state=state)
    return state


def wizard_store(request, *, tenant, state: WizardState) -> None:
    request.session[_key(tenant)] = asdict(state)


def wizard_get(request, *, tenant) -> WizardState | None:
    raw = request.session.get(_key(tenant))
    if not isinstance(raw, dict):
        return None
    known = {f.name for f in fields(WizardState)}
    try:
        state = WizardState(**{k: v for k, v in raw.items() if k in known})
    except TypeError:
        state = None
    if state is None or state.expired:
        wizard_drop(request, tenant=tenant)
        return None
    return state


def wizard_require(request, *, tenant, wizard_id: str | None = None) -> WizardState:
    state = wizard_get(request, tenant=tenant)
    if state is None or (wizard_id is not None and wizard_id != state.id):
        raise WizardGone()
    return state


def wizard_drop(request, *, tenant) -> None:
    request.session.pop(_key(tenant), None)
