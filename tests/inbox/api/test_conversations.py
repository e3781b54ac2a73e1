"""GET /api/v1/conversations/ (keyset pages, filters, sorts, counts) and GET /api/v1/conversations/<id>/."""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox import events
from inbox.api import ConversationSerializer, DecisionSerializer, MessageSerializer
from inbox.models import Tag
from inbox.permissions import AGENTS

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations/"


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def names(response) -> list[str]:
    return [row["contact"]["name"] for row in response.json()["results"]]


class ConversationPaginationTests:
    def test_pages_follow_next_without_duplicates_or_gaps(self, agent_api, messenger_channel, make_conversation):
        now = timezone.now()
        made = [make_conversation(messenger_channel, f"c{i}", activity_at=now - dt.timedelta(minutes=i)) for i in range(7)]

        seen, sizes, url = [], [], f"{URL}?limit=3"
        while url:
            response = agent_api.get(url)
            assert response.status_code == 200
            sizes.append(len(response.json()["results"]))
            seen += ids(response)
            url = response.json()["next"]

        assert sizes == [3, 3, 1]
        assert seen == [c.pk for c in made]  # newest activity first, each exactly once

    def test_next_keeps_the_filters(self, agent_api, messenger_channel, make_conversation):
        for i in range(3):
            make_conversation(messenger_channel, f"c{i}", unread_count=1)
        next_url = agent_api.get(f"{URL}?view=unread&limit=2").json()["next"]
        query = parse_qs(urlsplit(next_url).query)
        assert query["view"] == ["unread"] and query["limit"] == ["2"] and query["cursor"]

    def test_equal_activity_times_are_paged_by_id(self, agent_api, messenger_channel, make_conversation):
        at = timezone.now()
        made = [make_conversation(messenger_channel, f"c{i}", activity_at=at) for i in range(5)]
        first = agent_api.get(f"{URL}?limit=2").json()
        second = agent_api.get(first["next"]).json()
        third = agent_api.get(second["next"]).json()
        got = [r["id"] for page in (first, second, third) for r in page["results"]]
        assert got == sorted((c.pk for c in made), reverse=True)
        assert third["next"] is None

    def test_a_bad_cursor_is_a_400(self, agent_api, messenger_channel):
        response = agent_api.get(f"{URL}?cursor=not-a-cursor")
        assert response.status_code == 400
        assert response.json() == {"detail": "invalid cursor"}

    @pytest.mark.parametrize("query", ["view=everything", "sort=oldest", "limit=0", "limit=101", "channel=x"])
    def test_bad_parameters_are_a_400(self, agent_api, messenger_channel, query):
        assert agent_api.get(f"{URL}?{query}").status_code == 400

    def test_conversations_without_activity_or_on_inactive_channels_are_not_listed(
        self, agent_api, messenger_channel, line_channel, make_conversation
    ):
        shown = make_conversation(messenger_channel, "shown")
        make_conversation(line_channel, "hidden")
        line_channel.is_active = False
        line_channel.save()
        quiet = make_conversation(messenger_channel, "quiet")
        type(quiet).objects.filter(pk=quiet.pk).update(activity_at=None)
        assert ids(agent_api.get(URL)) == [shown.pk]


class ConversationFilterTests:
    @pytest.fixture
    def rows(self, messenger_channel, line_channel, make_conversation, agent, other_agent):
        now = timezone.now()
        hour = dt.timedelta(hours=1)
        vip, _ = Tag.objects.get_or_create(name="VIP")
        made = {
            "unread_mine": make_conversation(
                messenger_channel, "Alice Wang", activity_at=now, unread_count=2, assignee=agent,
                last_inbound_at=now - hour,
            ),
            "read_starred": make_conversation(
                messenger_channel, "Bob Chen", activity_at=now - hour, starred=True, assignee=other_agent,
                last_inbound_at=now - 2 * hour, last_reply_at=now - hour,
            ),
            "line_unanswered": make_conversation(
                line_channel, "Carol Lin", activity_at=now - 2 * hour, unread_count=1, last_inbound_at=now - 2 * hour,
                last_reply_at=now - 3 * hour,
            ),
            "line_quiet": make_conversation(line_channel, "Dan", activity_at=now - 3 * hour),
        }
        made["line_quiet"].tags.add(vip)
        return made

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("", ["unread_mine", "read_starred", "line_unanswered", "line_quiet"]),
            ("view=all", ["unread_mine", "read_starred", "line_unanswered", "line_quiet"]),
            ("view=unread", ["unread_mine", "line_unanswered"]),
            ("view=read", ["read_starred", "line_quiet"]),
            ("view=starred", ["read_starred"]),
            ("view=needs_reply", ["unread_mine", "line_unanswered"]),
            ("assignee=me", ["unread_mine"]),
            ("assignee=none", ["line_unanswered", "line_quiet"]),
            ("q=alice", ["unread_mine"]),  # contact name, case-insensitive
            ("q=CHEN", ["read_starred"]),
            ("q=vip", ["line_quiet"]),  # tag name
            ("view=unread&assignee=none", ["line_unanswered"]),
        ],
    )
    def test_filters(self, agent_api, rows, query, expected):
        response = agent_api.get(f"{URL}?{query}")
        assert response.status_code == 200
        assert ids(response) == [rows[key].pk for key in expected]

    def test_assignee_by_id(self, agent_api, rows, other_agent):
        assert ids(agent_api.get(f"{URL}?assignee={other_agent.pk}")) == [rows["read_starred"].pk]

    def test_a_bad_assignee_is_a_400(self, agent_api, rows):
        response = agent_api.get(f"{URL}?assignee=somebody")
        assert response.status_code == 400
        assert "assignee" in response.json()["detail"]

    def test_channel(self, agent_api, rows, line_channel, messenger_channel):
        assert ids(agent_api.get(f"{URL}?channel={line_channel.pk}")) == [rows["line_unanswered"].pk, rows["line_quiet"].pk]
        assert names(agent_api.get(f"{URL}?channel={messenger_channel.pk}&view=starred")) == ["Bob Chen"]

    def test_unread_counts_per_channel_and_in_all(self, agent_api, rows, messenger_channel, line_channel):
        counts = agent_api.get(f"{URL}?view=starred").json()["unread_counts"]  # whatever the filter
        assert counts == {str(messenger_channel.pk): 1, str(line_channel.pk): 1, "all": 2}

    def test_unread_counts_leave_out_inactive_channels_and_channels_with_none(
        self, agent_api, rows, messenger_channel, line_channel, make_conversation
    ):
        make_conversation(messenger_channel, "Eve", unread_count=3)
        line_channel.is_active = False
        line_channel.save()
        assert agent_api.get(URL).json()["unread_counts"] == {str(messenger_channel.pk): 2, "all": 2}
        type(rows["unread_mine"]).objects.filter(channel=messenger_channel).update(unread_count=0)
        assert agent_api.get(URL).json()["unread_counts"] == {"all": 0}


class ClosingSortTests:
    def test_only_messenger_conversations_with_open_windows_soonest_first(
        self, agent_api, messenger_channel, line_channel, make_conversation
    ):
        now = timezone.now()
        hours = lambda n: now - dt.timedelta(hours=n)  # noqa: E731
        fresh = make_conversation(messenger_channel, "fresh", last_inbound_at=hours(2))  # closes in 22 h
        closing = make_conversation(messenger_channel, "closing", last_inbound_at=hours(20))  # closes in 4 h
        human = make_conversation(messenger_channel, "human agent", last_inbound_at=hours(30))  # closes in 5.75 days
        make_conversation(messenger_channel, "closed", last_inbound_at=hours(24 * 8))
        make_conversation(messenger_channel, "never wrote")
        make_conversation(line_channel, "line", last_inbound_at=hours(1))

        response = agent_api.get(f"{URL}?sort=closing")
        assert response.status_code == 200
        assert ids(response) == [closing.pk, fresh.pk, human.pk]
        windows = [row["window"]["window"] for row in response.json()["results"]]
        assert windows == ["standard", "standard", "human_agent"]

        first = agent_api.get(f"{URL}?sort=closing&limit=2").json()
        assert [r["id"] for r in first["results"]] == [closing.pk, fresh.pk]
        assert [r["id"] for r in agent_api.get(first["next"]).json()["results"]] == [human.pk]


class ConversationListQueryCountTests:
    def _make(self, count, channels, make_conversation, make_message, agent, tag):
        now = timezone.now()
        for i in range(count):
            conversation = make_conversation(
                channels[i % 2], f"c{i}", activity_at=now - dt.timedelta(minutes=i), last_inbound_at=now, assignee=agent
            )
            message = make_message(conversation, text=f"m{i}")
            type(conversation).objects.filter(pk=conversation.pk).update(last_message=message)
            conversation.tags.add(tag)

    def test_the_list_runs_the_same_queries_whatever_the_page_size(
        self, agent_api, messenger_channel, line_channel, make_conversation, make_message, agent
    ):
        channels, tag = [messenger_channel, line_channel], Tag.objects.create(name="VIP")
        self._make(3, channels, make_conversation, make_message, agent, tag)
        with CaptureQueriesContext(connection) as small:
            assert len(agent_api.get(f"{URL}?limit=50").json()["results"]) == 3
        self._make(17, channels, make_conversation, make_message, agent, tag)
        with CaptureQueriesContext(connection) as large:
            assert len(agent_api.get(f"{URL}?limit=50").json()["results"]) == 20
        assert len(large) == len(small), [q["sql"] for q in large.captured_queries]
        assert len(small) <= 6  # session, user, groups; the page, its tags, the unread counts


class ConversationShapeTests:
    def test_a_row_is_the_realtime_payload_plus_channel_and_tags(
        self, agent_api, messenger_channel, make_conversation, make_message, agent
    ):
        conversation = make_conversation(
            messenger_channel, "Mei", last_inbound_at=timezone.now() - dt.timedelta(hours=2), unread_count=1,
            assignee=agent, note="likes blue",
        )
        message = make_message(conversation, text="Is the M size in stock?")
        type(conversation).objects.filter(pk=conversation.pk).update(last_message=message)
        conversation.tags.add(Tag.objects.create(name="VIP"))

        (row,) = agent_api.get(URL).json()["results"]
        detail = agent_api.get(f"{URL}{conversation.pk}/").json()

        conversation.refresh_from_db()
        expected = events.conversation_payload(conversation)
        assert {k: v for k, v in row.items() if k not in ("channel", "tags")} == expected
        assert row["channel"] == {"id": messenger_channel.pk, "name": "Main page", "platform": "messenger"}
        assert row["tags"] == [{"id": Tag.objects.get().pk, "name": "VIP"}]
        assert row["contact"] == {"name": "Mei", "avatar": "", "platform_id": conversation.contact.platform_user_id}
        assert row["assignee"] == {"id": agent.pk, "name": "amy"}
        assert row["last_message"]["text"] == "Is the M size in stock?"
        assert row["window"]["window"] == "standard" and row["window"]["messaging_type"] == "RESPONSE"
        assert detail == row

    def test_the_schema_declares_exactly_the_keys_the_api_returns(
        self, agent_api, line_channel, make_conversation, make_message
    ):
        conversation = make_conversation(line_channel, "Mei")
        make_message(conversation)
        row = agent_api.get(f"{URL}{conversation.pk}/").json()
        assert set(row) == set(ConversationSerializer().fields)
        assert set(row["window"]) == set(DecisionSerializer().fields)
        (message,) = agent_api.get(f"{URL}{conversation.pk}/messages/").json()["results"]
        assert set(message) == set(MessageSerializer().fields)

    def test_detail_of_an_unknown_conversation_is_a_404(self, agent_api, messenger_channel):
        assert agent_api.get(f"{URL}999999/").status_code == 404

    def test_any_agent_sees_conversations_assigned_to_others(self, agent_api, messenger_channel, make_conversation, django_user_model):
        someone = django_user_model.objects.create_user(username="zoe")
        someone.groups.add(Group.objects.get_or_create(name=AGENTS)[0])
        conversation = make_conversation(messenger_channel, "Mei", assignee=someone)
        assert agent_api.get(f"{URL}{conversation.pk}/").json()["assignee"] == {"id": someone.pk, "name": "zoe"}
