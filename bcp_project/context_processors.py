from .htmx import is_partial


def htmx(request):
    """`is_partial` for the templates: the decision the views' render helper makes, so both agree."""
    return {"is_partial": is_partial(request)}
