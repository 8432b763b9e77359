"""The Admin application's left menu. Each app registers its entries in its AppConfig.ready(), so
accounts never imports the apps that build on it."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class MenuEntry:
    label: object  # a lazy translation
    url_name: str
    permission: str  # the tenant permission (codename) needed to see the entry
    order: int = 100
    # Pages whose view name starts with this mark the entry current (e.g. "contactcenter:skill_").
    section: str = ""


_ENTRIES: list[MenuEntry] = []


def register(entry: MenuEntry) -> None:
    if entry not in _ENTRIES:
        _ENTRIES.append(entry)


def admin_menu(request) -> list[dict]:
    nav = request.nav
    if nav.admin_tenant is None:
        return []
    match = getattr(request, "resolver_match", None)
    current_name = match.view_name if match else ""
    items = []
    for entry in sorted(_ENTRIES, key=lambda e: (e.order, str(e.label))):
        if nav.has(entry.permission):
            in_section = bool(entry.section) and current_name.startswith(entry.section)
            is_current = current_name == entry.url_name or in_section
            items.append({"label": entry.label, "url": reverse(entry.url_name), "current": is_current})
    return items
