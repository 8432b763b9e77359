"""The project's URLs with a stand-in for BC Enablement in front, so that the outage tests can tell that a
request reached the page whether or not the real one is routed in this checkout."""

from django.http import HttpResponse
from django.urls import include, path

from bcp_project.urls import urlpatterns as project_urlpatterns


def bc_enablement_stand_in(request):
    return HttpResponse("BC Enablement stand-in")


urlpatterns = [
    path("admin/bc-enablement/", include(([path("", bc_enablement_stand_in, name="page")], "enablement"))),
    *project_urlpatterns,
]

handler404 = "bcp_project.errors.page_not_found"
