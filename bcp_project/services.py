from django.utils import timezone

from .models import Heartbeat


def heartbeat_record(*, name: str = "celery") -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now()})
    return beat
