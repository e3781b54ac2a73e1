"""Display helpers for the customers templates: money in TWD and phone numbers as staff read them."""
from __future__ import annotations

from django import template

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
