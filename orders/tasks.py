"""Periodic housekeeping for orders, run by Celery beat (config.settings.CELERY_BEAT_SCHEDULE)."""
from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from orders import services


@shared_task(name="orders.tasks.custom_images_prune")
def custom_images_prune() -> int:
    """Forget custom-product pictures uploaded days ago; delete the files no product took."""
    return services.prune_custom_images(now=timezone.now())
