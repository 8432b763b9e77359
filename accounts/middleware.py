from django.utils import translation
from django.utils.functional import SimpleLazyObject

from .navigation import Navigation


class UserLanguageMiddleware:
    """Speak the language a signed-in person chose on My Profile, and attach their navigation.

    The language is switched for this request only (translation.override), so that it does not stay
    active on the worker thread for whatever that thread serves next.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.nav = SimpleLazyObject(lambda: Navigation(request))
        user = getattr(request, "user", None)
        language = user.language if user is not None and user.is_authenticated and user.language else None
        if language is None:
            return self._respond(request)
        request.LANGUAGE_CODE = language
        with translation.override(language):
            return self._respond(request)

    def _respond(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
