from django import template

from sync.engine.registry import ENTITIES

register = template.Library()


@register.simple_tag
def run_rows(run):
    """(entity, counts) for the types of a run, in the order they are copied."""
    return [(entity, run.counts.get(entity.key, {})) for entity in ENTITIES if entity.key in run.counts]
