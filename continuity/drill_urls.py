"""Drills, rehearsals and follow-up actions."""

urlpatterns: list = []
