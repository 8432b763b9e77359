def navigation(request):
    nav = getattr(request, "nav", None)
    return {"nav": nav}
