"""The plan's pages: sections, versions, print view and PDF."""

urlpatterns: list = []
