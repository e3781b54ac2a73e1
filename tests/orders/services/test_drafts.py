"""The quick-order draft: saved as it changes (optimistic version), one editor at a time."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders import services
from orders.errors import DraftConflict, OrderInvalid
from orders.models import OrderDraft

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(django_user_model):
    return django_user_model.objects.create_user(username="bob")


class DraftTests:
    def test_save_and_read_back(self, bound, agent):
        draft = services.save_draft(conversation=bound.conversation, actor=agent, data={"note": "hi"}, version=0)
        assert draft.version == 1
        state = services.draft_state(conversation=bound.conversation, actor=agent)
        assert state["data"] == {"note": "hi"} and state["version"] == 1 and state["editable"]

    def test_stale_version_is_refused(self, bound, agent):
        services.save_draft(conversation=bound.conversation, actor=agent, data={"note": "a"}, version=0)
        with pytest.raises(DraftConflict):
            services.save_draft(conversation=bound.conversation, actor=agent, data={"note": "b"}, version=0)
        assert OrderDraft.objects.get().data == {"note": "a"}

    def test_second_person_sees_x_is_editing_and_cannot_overwrite(self, bound, agent, colleague):
        services.claim_draft_editing(conversation=bound.conversation, actor=agent)
        state = services.draft_state(conversation=bound.conversation, actor=colleague)
        assert not state["editable"] and state["reason"] == "amy is editing this order." and state["editing_by"]["name"] == "amy"
        with pytest.raises(DraftConflict, match="amy is editing"):
            services.claim_draft_editing(conversation=bound.conversation, actor=colleague)
        with pytest.raises(DraftConflict, match="amy is editing"):
            services.save_draft(conversation=bound.conversation, actor=colleague, data={}, version=0)

    def test_released_or_lapsed_claims_free_the_draft(self, bound, agent, colleague):
        services.claim_draft_editing(conversation=bound.conversation, actor=agent)
        services.release_draft_editing(conversation=bound.conversation, actor=agent)
        services.claim_draft_editing(conversation=bound.conversation, actor=colleague)
        OrderDraft.objects.update(editing_at=timezone.now() - services.EDITING_TTL - dt.timedelta(seconds=1))
        assert services.claim_draft_editing(conversation=bound.conversation, actor=agent).editing_by == agent

    def test_limits_are_checked_on_save(self, bound, agent):
        for data in ({"tags": [str(i) for i in range(11)]}, {"note": "x" * 201}):
            with pytest.raises(OrderInvalid):
                services.save_draft(conversation=bound.conversation, actor=agent, data=data, version=0)
        with pytest.raises(Exception, match="at most 5 custom discounts"):
            services.save_draft(conversation=bound.conversation, actor=agent, data={"custom_discounts": [{}] * 6}, version=0)
        with pytest.raises(OrderInvalid):
            services.save_draft(conversation=bound.conversation, actor=agent, data={"x": "y" * 70_000}, version=0)

    def test_assigned_elsewhere_says_so(self, bound, agent, colleague):
        bound.conversation.assignee = colleague
        bound.conversation.save()
        state = services.draft_state(conversation=bound.conversation, actor=agent)
        assert not state["editable"] and "assigned to bob" in state["reason"]
