from . import import_urls
from .registry import REGISTRY

app_name = "contactcenter"

# /admin/<type>/, /admin/<type>/new/, /admin/<type>/<id>/, /admin/<type>/<id>/delete/ for every declared type.
urlpatterns = REGISTRY.urls() + import_urls.urlpatterns  # + Admin → Import users
