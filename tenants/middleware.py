from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _

from .support.selectors import EndReason, impersonation_from_session
from .support.services import impersonation_end

NOTICE_KEY = "impersonation_notice"


class ImpersonationMiddleware:
    """Sets request.impersonation when an account representative is supporting a tenant (Impersonate &
    Support), or None. An impersonation past its time, or whose tenant became inactive, ends here and
    the representative is told why on the page they were opening."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.impersonation = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            impersonation, stop_reason = impersonation_from_session(request=request)
            request.impersonation = impersonation
            if stop_reason is not None:
                impersonation_end(request=request, reason=stop_reason)
                # The message framework is not ready yet (its middleware comes later): say it in process_view.
                request.session[NOTICE_KEY] = {"reason": stop_reason, "tenant": impersonation.tenant.name}
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        session = getattr(request, "session", None)
        if session is None or NOTICE_KEY not in session or not hasattr(request, "_messages"):
            return None
        notice = session.pop(NOTICE_KEY)
        if notice.get("reason") == EndReason.EXPIRED:
            text = _("Your support session in “%(tenant)s” ended after %(minutes)s minutes. "
                     "Start Impersonate & Support again if you still need it.")
        elif notice.get("reason") == EndReason.SWITCHED:
            text = _("Your support session in “%(tenant)s” ended because its BCP pair switched and it is no longer "
                     "the active tenant. Start Impersonate & Support on the active tenant if you still need it.")
        else:
            text = _("Your support session in “%(tenant)s” ended because the tenant is no longer active.")
        minutes = int(settings.IMPERSONATION_MAX_AGE.total_seconds() // 60)
        messages.warning(request, text % {"tenant": notice.get("tenant", ""), "minutes": minutes})
        return None
