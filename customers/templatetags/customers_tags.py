"""Display helpers for the customers templates: money in TWD and phone numbers as staff read them."""
from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from customers.normalize import format_phone

register = template.Library()


@register.filter
def twd(amount) -> str:
    """1234 -> "NT$1,234" (store credit and totals are whole TWD)."""
    try:
        value = int(amount)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    return f"{sign}NT${abs(value):,}"


@register.filter
def phone_display(e164: str) -> str:
    return format_phone(e164 or "")


_FIELD_LABELS = {
    "name": _("name"),
    "email": _("email"),
    "phone": _("phone"),
    "notes": _("notes"),
    "tier_id": _("tier"),
    "tags": _("tags"),
}


def _shown(field: str, value) -> str:
    if field == "phone":
        return format_phone(value or "") or "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value) if value not in (None, "") else "—"


@register.simple_tag
def audit_summary(entry) -> str:
    """One line for people about an audit entry (the template escapes it)."""
    data = entry.data or {}
    action = entry.action
    if action == "create":
        return " · ".join(part for part in (data.get("name"), data.get("email"), format_phone(data.get("phone", ""))) if part)
    if action == "update":
        return "; ".join(
            f"{_FIELD_LABELS.get(field, field)}: {_shown(field, change.get('from'))} → {_shown(field, change.get('to'))}"
            for field, change in (data.get("changes") or {}).items()
        )
    if action in ("bind", "unbind"):
        return str(data.get("contact", ""))
    if action == "address":
        ops = {"add": _("added"), "update": _("changed"), "delete": _("deleted")}
        return f"{ops.get(data.get('op'), data.get('op', ''))}: {data.get('address', '')}"
    if action == "credit":
        return f"{twd(data.get('amount'))} · {data.get('reason', '')}"
    if action == "merge":
        merged = data.get("merged") or {}
        moved = data.get("moved") or {}
        return _(
            "Member #%(id)s (%(name)s) merged in: %(chats)d chats, %(addresses)d addresses (%(archived)d archived), "
            "%(entries)d credit entries."
        ) % {
            "id": entry.merged_customer_id,
            "name": merged.get("name") or merged.get("email") or merged.get("phone") or "—",
            "chats": len(moved.get("contacts") or []),
            "addresses": len(moved.get("addresses") or []),
            "archived": len(moved.get("addresses_archived") or []),
            "entries": len(moved.get("credit_entries") or []),
        }
    return ""
