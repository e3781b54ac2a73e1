"""The staff websocket: who may connect, live events, and catching up after a drop."""
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from inbox.consumers import InboxConsumer
from inbox.services import conversations
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def communicator(user, query: str = "") -> WebsocketCommunicator:
    comm = WebsocketCommunicator(InboxConsumer.as_asgi(), f"/ws/inbox/{query}")
    comm.scope["user"] = user
    return comm


@database_sync_to_async
def make(channel):
    agent = factories.staff_user("agent")
    convo = factories.conversation(channel)
    return agent, convo


@database_sync_to_async
def star(convo, user, starred=True):
    return conversations.star_conversation(conversation=convo, starred=starred, actor=user)


class ConsumerTests:
    async def test_staff_receive_changes_live(self, messenger_channel):
        agent, convo = await make(messenger_channel)
        comm = communicator(agent)
        connected, _ = await comm.connect()
        assert connected
        await star(convo, agent)
        event = await comm.receive_json_from(timeout=3)
        assert (event["type"], event["op"], event["conversation"]["id"], event["conversation"]["starred"]) == (
            "conversation", "star", convo.pk, True,
        )
        assert event["seq"] > 0
        await comm.disconnect()

    async def test_non_staff_and_anonymous_are_refused(self, messenger_channel):
        from django.contrib.auth.models import AnonymousUser, User

        plain = await database_sync_to_async(User.objects.create_user)(username="visitor", password="x")
        for user in (plain, AnonymousUser()):
            comm = communicator(user)
            connected, code = await comm.connect()
            assert not connected
            assert code == 4403

    async def test_reconnect_catches_up_in_order_without_repeats(self, messenger_channel):
        agent, convo = await make(messenger_channel)
        comm = communicator(agent)
        await comm.connect()
        await star(convo, agent)
        first = await comm.receive_json_from(timeout=3)
        await comm.disconnect()
        # While disconnected: two more changes.
        await star(convo, agent, starred=False)
        await star(convo, agent, starred=True)
        comm = communicator(agent, f"?since={first['seq']}")
        await comm.connect()
        missed = [await comm.receive_json_from(timeout=3), await comm.receive_json_from(timeout=3)]
        assert [e["conversation"]["starred"] for e in missed] == [False, True]
        assert missed[0]["seq"] > first["seq"] and missed[1]["seq"] > missed[0]["seq"]
        assert await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()

    async def test_catch_up_too_old_asks_for_reload(self, messenger_channel):
        agent, convo = await make(messenger_channel)
        await star(convo, agent)
        from inbox.models import InboxEvent

        await database_sync_to_async(lambda: InboxEvent.objects.all().delete())()
        await star(convo, agent, starred=False)
        comm = communicator(agent, "?since=1")
        await comm.connect()
        assert await comm.receive_json_from(timeout=3) == {"type": "resync"}
        await comm.disconnect()

    async def test_origin_is_checked_by_the_asgi_stack(self, messenger_channel):
        comm = WebsocketCommunicator(application, "/ws/inbox/", headers=[(b"origin", b"https://evil.example")])
        connected, _ = await comm.connect()
        assert not connected


class LateCommitTests:
    """Event numbers are given inside transactions, so a lower number can become visible after a higher one
    (inbox.events.REPLAY_WINDOW). A page or socket that asks again for the last numbers it has still gets it."""

    async def test_a_lower_number_committed_late_is_replayed_and_a_pruned_gap_still_asks_for_reload(self, messenger_channel):
        from inbox import events
        from inbox.models import InboxEvent

        agent, convo = await make(messenger_channel)
        for starred in (True, False, True):
            await star(convo, agent, starred=starred)

        def late_commit():
            # The middle event "was not committed yet" when the page was rendered: take it out, render, put it back.
            rows = list(InboxEvent.objects.order_by("pk"))
            middle = rows[1]
            InboxEvent.objects.filter(pk=middle.pk).delete()
            position = events.page_position()
            InboxEvent.objects.create(pk=middle.pk, payload=middle.payload)
            return middle.pk, position

        middle, (seq, shown) = await database_sync_to_async(late_commit)()
        assert middle not in shown and seq > middle and seq in shown
        since = max(0, seq - events.REPLAY_WINDOW)
        comm = communicator(agent, f"?since={since}&known={seq}")
        await comm.connect()
        replayed = []
        while not await comm.receive_nothing(timeout=0.3):
            replayed.append((await comm.receive_json_from(timeout=3))["seq"])
        await comm.disconnect()
        assert middle in replayed and [n for n in replayed if n not in shown] == [middle]

        # The gap is judged from what the browser has (`known`), not from where it asks: everything pruned.
        await database_sync_to_async(lambda: InboxEvent.objects.all().delete())()
        await star(convo, agent, starred=False)
        comm = communicator(agent, f"?since={since}&known={seq}")
        await comm.connect()
        assert await comm.receive_json_from(timeout=3) == {"type": "resync"}
        await comm.disconnect()
