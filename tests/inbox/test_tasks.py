import datetime as dt

import pytest
from django.utils import timezone

from inbox.models import Contact, InboxEvent
from inbox.tasks import contacts_profile_refresh, inbox_events_prune
from tests import factories

pytestmark = pytest.mark.django_db


def test_profiles_that_failed_or_aged_are_fetched_again(messenger_channel):
    fresh = factories.conversation(messenger_channel).contact
    failed = factories.conversation(messenger_channel).contact
    Contact.objects.filter(pk=fresh.pk).update(profile_fetched_at=timezone.now())
    Contact.objects.filter(pk=failed.pk).update(profile_fetched_at=None, profile_error="timeout")
    # Eager here: each fetch runs now, against an unreachable platform, and records its error again.
    assert contacts_profile_refresh() == 1
    failed.refresh_from_db()
    assert failed.profile_error


def test_old_live_events_are_pruned():
    old = InboxEvent.objects.create(payload={"type": "x"})
    InboxEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    InboxEvent.objects.create(payload={"type": "y"})
    assert inbox_events_prune() == 1
    assert list(InboxEvent.objects.values_list("payload__type", flat=True)) == ["y"]
