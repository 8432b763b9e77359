"""The continuity plan (everyone in the tenant reads it; Continuity Plan: Edit changes it) and its drills."""

from .drills.urls import urlpatterns as drill_patterns
from .plan.urls import urlpatterns as plan_patterns
from .versions.urls import urlpatterns as version_patterns

app_name = "continuity"

urlpatterns = plan_patterns + drill_patterns + version_patterns
