"""The plan's versions, the compare page, the print view and the PDF."""

from django.urls import path

from . import views

urlpatterns = [
    path("versions/", views.version_list, name="versions"),
    path("versions/<int:number>/", views.version_detail, name="version"),
    path("versions/<int:number>/compare/", views.version_compare, name="compare"),
    path("versions/<int:number>/print/", views.print_version, name="version_print"),
    path("versions/<int:number>/plan.pdf", views.pdf_version, name="version_pdf"),
    path("print/", views.print_current, name="print"),
    path("plan.pdf", views.pdf_current, name="pdf"),
]
