from django.utils import translation
from django.utils.functional import SimpleLazyObject

from .navigation import Navigation


class UserLanguageMiddleware:
    """Speak the language a signed-in person chose on My Profile, and attach their navigation."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.nav = SimpleLazyObject(lambda: Navigation(request))
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
