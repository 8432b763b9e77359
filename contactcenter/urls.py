from .registry import REGISTRY
from .user_import import urls as user_import_urls

app_name = "contactcenter"

# /admin/<type>/, /admin/<type>/new/, /admin/<type>/<id>/, /admin/<type>/<id>/delete/ for every declared type.
urlpatterns = REGISTRY.urls() + user_import_urls.urlpatterns  # + Admin → Import users
