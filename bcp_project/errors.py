from django.shortcuts import render


def _render(request, status, title, message):
    return render(request, "errors/error.html", {"status": status, "title": title, "message": message},
                  status=status)


def bad_request(request, exception=None):
    from django.utils.translation import gettext as _

    return _render(request, 400, _("Bad request"), _("The request could not be understood. Go back and try again."))


def permission_denied(request, exception=None):
    from django.utils.translation import gettext as _

    return _render(request, 403, _("Not allowed"),
                   _("You do not have permission for this action. Ask your administrator if you need it."))


def csrf_failure(request, reason=""):
    """Instead of Django's own page, whose inline style our Content-Security-Policy refuses."""
    from django.utils.translation import gettext as _

    return _render(request, 403, _("Form expired"),
                   _("This form was open too long or came from another site. Go back, reload the page and send it "
                     "again."))


def page_not_found(request, exception=None):
    from django.utils.translation import gettext as _

    return _render(request, 404, _("Page not found"),
                   _("This page does not exist or you do not have access to it."))


def server_error(request):
    from django.shortcuts import render as plain_render

    # No request context here: the error may come from a context processor.
    return plain_render(None, "errors/500.html", status=500)
