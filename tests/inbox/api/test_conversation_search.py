"""The conversation search (`?q=`: a contact's name or a tag, any case, anywhere in it), page after page.

The selector unions the first rows of the name matches and of the tag matches (each side planned on its own:
see `selectors._search`); these tests hold it to the plain definition on every backend, and on PostgreSQL
check that the search can use the trigram indexes of migration 0003.
"""
import datetime as dt
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox import selectors
from inbox.models import Contact, Conversation, Tag

pytestmark = pytest.mark.django_db

URL = "/api/v1/conversations/"


def all_pages(api, url: str) -> list[int]:
    seen = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        seen += [row["id"] for row in response.json()["results"]]
        url = response.json()["next"]
    return seen


class ConversationSearchTests:
    def test_name_and_tag_matches_are_merged_in_activity_order_and_paged(
        self, agent_api, messenger_channel, line_channel, make_conversation
    ):
        now = timezone.now()
        sale, _ = Tag.objects.get_or_create(name="Sale")
        made = []
        for i in range(9):
            name = f"Wholesale {i}" if i % 3 == 0 else f"Customer {i}"
            conversation = make_conversation((messenger_channel, line_channel)[i % 2], name, activity_at=now - dt.timedelta(minutes=i))
            if i % 3 == 1:
                conversation.tags.add(sale)
            made.append(conversation)
        # Both a name match and tagged: listed once.
        made[0].tags.add(sale)
        expected = [c.pk for i, c in enumerate(made) if i % 3 != 2]

        assert all_pages(agent_api, f"{URL}?q=SALE&limit=2") == expected
        assert all_pages(agent_api, f"{URL}?q=sale&limit=50") == expected

    def test_the_bound_members_tags_find_their_chats(self, agent_api, messenger_channel, line_channel, make_conversation, agent):
        """The tags staff give a member in the customer pane find every chat bound to them, listed once each."""
        from customers import services as customer_services

        now = timezone.now()
        messenger = make_conversation(messenger_channel, "Mei FB", activity_at=now - dt.timedelta(minutes=1))
        line = make_conversation(line_channel, "Mei LINE", activity_at=now - dt.timedelta(minutes=2))
        make_conversation(messenger_channel, "Someone else", activity_at=now)
        mei = customer_services.create_customer(name="陳小美", phone="0912345678", actor=agent)
        for conversation in (messenger, line):
            customer_services.bind_contact(contact=conversation.contact, customer=mei, actor=agent)
        customer_services.update_customer(customer=mei, actor=agent, tags=["團購主"])
        assert all_pages(agent_api, f"{URL}?{urlencode({'q': '團購'})}") == [messenger.pk, line.pk]
        assert all_pages(agent_api, f"{URL}?{urlencode({'q': '團購', 'limit': 1})}") == [messenger.pk, line.pk]
        # Wildcards in the query are plain characters there too; the case doesn't matter.
        other = make_conversation(messenger_channel, "Lin", activity_at=now - dt.timedelta(minutes=3))
        lin = customer_services.create_customer(name="林小玲", phone="0922333444", actor=agent)
        customer_services.bind_contact(contact=other.contact, customer=lin, actor=agent)
        customer_services.update_customer(customer=lin, actor=agent, tags=["VIP_2026"])
        customer_services.update_customer(customer=mei, actor=agent, tags=["團購主", "vipx2026"])
        assert all_pages(agent_api, f"{URL}?{urlencode({'q': 'vip_2026'})}") == [other.pk]
        assert all_pages(agent_api, f"{URL}?{urlencode({'q': '%'})}") == []

    def test_search_keeps_the_other_filters(self, agent_api, messenger_channel, line_channel, make_conversation, agent):
        vip, _ = Tag.objects.get_or_create(name="VIP")
        mine = make_conversation(messenger_channel, "Vivian", assignee=agent, unread_count=1)
        make_conversation(messenger_channel, "Vivian read", assignee=agent)
        tagged = make_conversation(line_channel, "Zed", unread_count=2)
        tagged.tags.add(vip)
        assert all_pages(agent_api, f"{URL}?q=vi&view=unread") == [tagged.pk, mine.pk]
        assert all_pages(agent_api, f"{URL}?q=vi&view=unread&assignee=me") == [mine.pk]
        assert all_pages(agent_api, f"{URL}?q=vi&channel={line_channel.pk}") == [tagged.pk]

    def test_closing_sort_counts_a_reaction_that_reopened_the_24_hours(self, agent_api, messenger_channel, make_conversation):
        now = timezone.now()
        reopened = make_conversation(messenger_channel, "Reacted", last_inbound_at=now - dt.timedelta(hours=30),
                                     last_engaged_at=now - dt.timedelta(hours=2))  # 24 hours end in 22 hours
        soon = make_conversation(messenger_channel, "Soon", last_inbound_at=now - dt.timedelta(hours=20))  # in 4 hours
        week = make_conversation(messenger_channel, "Week", last_inbound_at=now - dt.timedelta(hours=40))  # 7 days: in 128 hours
        assert all_pages(agent_api, f"{URL}?sort=closing") == [soon.pk, reopened.pk, week.pk]

    def test_wildcards_in_the_query_are_plain_characters(self, agent_api, messenger_channel, make_conversation):
        percent = make_conversation(messenger_channel, "100% cotton")
        make_conversation(messenger_channel, "100 cotton")
        underscore = make_conversation(messenger_channel, "a_b")
        make_conversation(messenger_channel, "axb")
        assert all_pages(agent_api, f"{URL}?q=0%25") == [percent.pk]
        assert all_pages(agent_api, f"{URL}?q=a_b") == [underscore.pk]

    def test_closing_sort_with_a_search(self, agent_api, messenger_channel, make_conversation):
        now = timezone.now()
        vip, _ = Tag.objects.get_or_create(name="VIP")
        later = make_conversation(messenger_channel, "Vicky", last_inbound_at=now - dt.timedelta(hours=2))
        sooner = make_conversation(messenger_channel, "Zoe", last_inbound_at=now - dt.timedelta(hours=20))
        sooner.tags.add(vip)
        make_conversation(messenger_channel, "Other", last_inbound_at=now - dt.timedelta(hours=10))
        assert all_pages(agent_api, f"{URL}?q=vi&sort=closing&limit=1") == [sooner.pk, later.pk]

    def test_a_search_runs_a_constant_number_of_queries(self, agent_api, messenger_channel, make_conversation):
        vip, _ = Tag.objects.get_or_create(name="VIP")
        for i in range(2):
            make_conversation(messenger_channel, f"Vic {i}").tags.add(vip)
        with CaptureQueriesContext(connection) as small:
            agent_api.get(f"{URL}?q=vi")
        for i in range(12):
            make_conversation(messenger_channel, f"Vic more {i}").tags.add(vip)
        with CaptureQueriesContext(connection) as large:
            assert len(agent_api.get(f"{URL}?q=vi").json()["results"]) == 14
        assert len(small) == len(large) <= 7  # the list's 6, and the search's look-up of the member tags it matches

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        rows=st.lists(
            st.tuples(
                st.text("abAB王%_ ", min_size=0, max_size=6),  # the contact's name
                st.sets(st.sampled_from(["vip", "Vip-2", "王牌", "50%"]), max_size=2),  # its tags
                st.integers(0, 4),  # minutes ago (ties are paged by id)
            ),
            max_size=10,
        ),
        q=st.text("abAB王%_ ", min_size=1, max_size=3).map(str.strip).filter(bool),
        limit=st.integers(1, 4),
    )
    def test_every_page_together_is_exactly_the_matches_in_order(self, agent_api, messenger_channel, make_conversation, rows, q, limit):
        Conversation.objects.all().delete()
        Contact.objects.all().delete()
        Tag.objects.all().delete()
        now = timezone.now()
        expected = []
        for name, tags, minutes in rows:
            conversation = make_conversation(messenger_channel, name, activity_at=now - dt.timedelta(minutes=minutes))
            for tag in tags:
                conversation.tags.add(Tag.objects.get_or_create(name=tag)[0])
            if q.upper() in name.upper() or any(q.upper() in tag.upper() for tag in tags):
                expected.append((conversation.activity_at, conversation.pk))
        expected.sort(reverse=True)
        assert all_pages(agent_api, f"{URL}?{urlencode({'q': q, 'limit': limit})}") == [pk for _, pk in expected]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram indexes exist on PostgreSQL only")
class TrigramIndexTests:
    """Migration 0003's indexes exist and match the expressions the search runs (on PostgreSQL)."""

    def plan(self, sql: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")  # few rows in a test: make the planner show it can
            cursor.execute("EXPLAIN " + sql)
            return "\n".join(row[0] for row in cursor.fetchall())

    def test_the_name_search_can_read_the_name_index(self, agent, messenger_channel, make_conversation):
        make_conversation(messenger_channel, "王小明")
        query = Contact.objects.filter(display_name__icontains="小明").values("pk").query
        assert "contact_name_trgm_idx" in self.plan(connection.ops.compose_sql(*query.sql_with_params()))

    def test_the_tag_search_can_read_the_tag_index(self, db):
        Tag.objects.create(name="VIP")
        query = Tag.objects.filter(name__icontains="vip").values("pk").query
        assert "tag_name_trgm_idx" in self.plan(connection.ops.compose_sql(*query.sql_with_params()))

    def test_a_list_search_finds_through_the_indexes(self, agent, messenger_channel, make_conversation):
        conversation = make_conversation(messenger_channel, "王小明")
        rows, _ = selectors.conversation_list(user=agent, q="小明", now=timezone.now())
        assert [c.pk for c in rows] == [conversation.pk]
