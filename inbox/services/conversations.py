"""Changes to conversations: new activity, and what staff do to them (assign, star, read, note).

Every change publishes an event for open inboxes (after commit) carrying the conversation's new summary.
"""
from __future__ import annotations

import datetime as dt
import functools

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox import events
from inbox.errors import ApplicationError
from inbox.models import Conversation, Message
from inbox.permissions import is_inbox_staff
from integrations import sql


def record_activity(
    *, conversation_id: int, message: Message, inbound: bool = False, by_person: bool = False, reply_token: str = ""
) -> Conversation:
    """A message was added: move the conversation's times forward (events can arrive out of order). One UPDATE,
    which returns the conversation as it now is (its own fields; relations load if used).

    The message becomes the preview only if it is the newest: every expression of an UPDATE reads the row as it
    was, so "the stored `last_message_at` is not later than this one" is the new `last_message_at` being this
    message's time (a tie goes to the message recorded last, as before). A NULL stored time counts as earlier.
    Composed SQL (integrations.sql), not a queryset: this runs for every message, and compiling its expressions
    cost more than the statement.
    """
    connection = sql.connection_for(Conversation)
    at = connection.ops.adapt_datetimefield_value(message.platform_timestamp)
    statement, shape = _activity_sql(connection, inbound, bool(inbound and reply_token), by_person)
    values = {"at": at, "message": message.pk, "token": reply_token, "conversation": conversation_id}
    row = sql.fetch_one(Conversation, statement, [values[name] for name in shape])
    if row is None:
        raise Conversation.DoesNotExist(conversation_id)
    return sql.instance(Conversation, CONVERSATION_FIELDS, row, connection)


CONVERSATION_FIELDS = tuple(f.name for f in Conversation._meta.concrete_fields)


@sql.statement
def _activity_sql(connection, inbound: bool, with_token: bool, by_person: bool) -> tuple[str, list[str]]:
    """record_activity's UPDATE for one combination of its flags, and the names of its parameters in order."""
    col = functools.partial(sql.column, Conversation, connection=connection)
    later = sql.greatest(connection)
    assignments: list[tuple[str, str, list[str]]] = [
        ("last_message", f"CASE WHEN {col('last_message_at')} IS NULL OR {col('last_message_at')} <= %s THEN %s ELSE {col('last_message')} END", ["at", "message"]),
    ]
    moved = ["last_message_at", "activity_at"]
    if inbound:
        assignments.append(("unread_count", f"{col('unread_count')} + 1", []))
        moved.append("last_inbound_at")
    if with_token:
        assignments += [("reply_token", "%s", ["token"]), ("reply_token_at", "%s", ["at"])]
    if by_person:
        moved.append("last_reply_at")
    assignments += [(name, f"{later}(COALESCE({col(name)}, %s), %s)", ["at", "at"]) for name in moved]
    statement = (
        f"UPDATE {sql.table(Conversation, connection)} SET {', '.join(f'{col(name)} = {value}' for name, value, _ in assignments)} "
        f"WHERE {col('id')} = %s RETURNING {sql.columns(Conversation, CONVERSATION_FIELDS, connection)}"
    )
    return statement, [name for _, _, names in assignments for name in names] + ["conversation"]


def record_engagement(*, conversation_id: int, at) -> None:
    """The customer reacted or came in from an ad or a link: Messenger's 24-hour window opens (integrations.policy);
    nothing else moves (no unread message, no reply needed). The list's window chip and the chat's banner follow."""
    updated = Conversation.objects.filter(pk=conversation_id).filter(Q(last_engaged_at__isnull=True) | Q(last_engaged_at__lt=at)).update(
        last_engaged_at=at
    )
    if updated:
        _changed(conversation_id, "engaged")


def _changed(conversation_id: int, op: str, actor=None) -> Conversation:
    conversation = events.conversation_for_event(conversation_id)
    events.publish_on_commit(events.conversation_changed(conversation, op=op, actor_id=getattr(actor, "pk", None)))
    return conversation


@transaction.atomic
def assign_conversation(*, conversation: Conversation, assignee_id: int | None, actor) -> Conversation:
    """Give the conversation to a staff member (or to nobody)."""
    if assignee_id is not None:
        assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or not is_inbox_staff(assignee):
            raise ApplicationError(_("Conversations can only be assigned to shop staff."))
    Conversation.objects.filter(pk=conversation.pk).update(assignee_id=assignee_id)
    return _changed(conversation.pk, "assign", actor)


@transaction.atomic
def star_conversation(*, conversation: Conversation, starred: bool, due_at: dt.datetime | None = None, actor) -> Conversation:
    """Star for follow-up, optionally with a due time that brings it back to the top of the list."""
    if due_at is not None and not starred:
        raise ApplicationError(_("Only a starred conversation can have a due time."))
    Conversation.objects.filter(pk=conversation.pk).update(starred=starred, star_due_at=due_at if starred else None)
    return _changed(conversation.pk, "star", actor)


def bring_due_stars_forward(*, now: dt.datetime | None = None) -> int:
    """Stars whose due time has come move to the top of the list (run every minute by beat)."""
    now = now or timezone.now()
    due = list(
        Conversation.objects.filter(starred=True, star_due_at__lte=now)
        .exclude(activity_at__gte=F("star_due_at"))
        .values_list("pk", flat=True)[:500]
    )
    with transaction.atomic():
        for conversation_id in due:
            Conversation.objects.filter(pk=conversation_id).update(activity_at=F("star_due_at"))
            _changed(conversation_id, "due")
    return len(due)


@transaction.atomic
def mark_read(*, conversation: Conversation, read: bool, actor) -> Conversation:
    """Read clears the unread count; unread marks it as having one unread message again."""
    Conversation.objects.filter(pk=conversation.pk).update(unread_count=0 if read else Greatest(F("unread_count"), Value(1)))
    return _changed(conversation.pk, "read", actor)


@transaction.atomic
def set_note(*, conversation: Conversation, note: str, actor) -> Conversation:
    note = note.strip()
    if len(note) > 5000:
        raise ApplicationError(_("The note is longer than 5000 characters."))
    Conversation.objects.filter(pk=conversation.pk).update(note=note)
    return _changed(conversation.pk, "note", actor)
