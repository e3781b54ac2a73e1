"""Periodic housekeeping for customers, run by Celery beat (config.settings.CELERY_BEAT_SCHEDULE)."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from customers import services


@shared_task(name="customers.tasks.credit_expire")
def credit_expire() -> int:
    """Write off what is left of store-credit grants past their expiry (the member's balance and pane follow)."""
    return services.expire_credit(now=timezone.now())
