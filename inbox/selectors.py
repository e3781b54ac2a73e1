"""Reads for the inbox: the conversation list (keyset-paginated), the timeline, counts, windows."""
from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import operator

from django.apps import apps
from django.db.models.expressions import RawSQL
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Func, OuterRef, Q, QuerySet, Subquery, When
from django.core.cache import cache
from django.db import connections
from django.http import Http404

from inbox.models import Conversation, Message, SavedReply
from integrations.base import PlatformError, Platform, Quota
from integrations.models import Channel
from integrations.registry import get_client
from integrations.policy import Decision, Sender, line_decision, messenger_decision

logger = logging.getLogger(__name__)

PAGE_SIZE = 30
MAX_PAGE_SIZE = 100
VIEWS = ("all", "unread", "read", "starred", "needs_reply")
SORTS = ("recent", "closing")


# What a list row shows (`events.conversation_payload`, the API's channel, `conversation_window`, the page's
# row template): the list reads only these columns, not the channel's secrets, the assignee's password hash or
# the last message's JSON fields. Showing another field in a row means adding it here (a deferred field would
# cost a query per row: the query-count tests catch it).
LIST_FIELDS = (
    "id", "channel_id", "contact_id", "assignee_id", "starred", "star_due_at", "note", "unread_count",
    "last_inbound_at", "last_engaged_at", "last_reply_at", "activity_at", "last_message_id", "reply_token", "reply_token_at",
    "channel__id", "channel__platform", "channel__name",
    "contact__id", "contact__display_name", "contact__platform_user_id", "contact__avatar_url", "contact__is_following",
    "assignee__id", "assignee__username",
    "last_message__id", "last_message__direction", "last_message__kind", "last_message__text",
    "last_message__platform_timestamp",
)


class InvalidQuery(ValueError):
    """A list parameter or cursor that makes no sense: answered with a 400, never a 500."""


def conversation_window(conversation: Conversation, *, now: dt.datetime, sender: Sender = Sender.PERSON) -> Decision:
    """What the platform would allow for the next message in this conversation."""
    if conversation.channel.platform == Platform.MESSENGER:
        return messenger_decision(
            last_inbound_at=conversation.last_inbound_at, last_engaged_at=conversation.last_engaged_at, now=now, sender=sender
        )
    return line_decision(
        reply_token=conversation.reply_token,
        reply_token_at=conversation.reply_token_at,
        is_following=conversation.contact.is_following,
        now=now,
    )


def access_conversation(user, conversation_id: int) -> Conversation:
    """Fetch a conversation for a staff member (every staff member sees every conversation)."""
    conversation = Conversation.objects.select_related("channel", "contact", "assignee", "last_message").filter(pk=conversation_id).first()
    if conversation is None:
        raise Http404
    return conversation


def _encode_cursor(key: dt.datetime | None, pk: int) -> str:
    raw = json.dumps([key.isoformat() if key else None, pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, pk = json.loads(raw)
        when = dt.datetime.fromisoformat(key) if key else None
        if when is not None and when.tzinfo is None:
            raise ValueError
        return when, int(pk)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise InvalidQuery("invalid cursor") from None


def conversation_list(
    *,
    user,
    channel_id: int | None = None,
    view: str = "all",
    assignee: str | None = None,
    q: str = "",
    sort: str = "recent",
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    now: dt.datetime,
) -> tuple[list[Conversation], str | None]:
    """One page of conversations and the cursor of the next page (None at the end).

    Keyset pagination on (sort key, id): no OFFSET, stable while new messages arrive.
    """
    if view not in VIEWS:
        raise InvalidQuery(f"view must be one of {', '.join(VIEWS)}")
    if sort not in SORTS:
        raise InvalidQuery(f"sort must be one of {', '.join(SORTS)}")
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    qs = _filtered(user=user, channel_id=channel_id, view=view, assignee=assignee)
    if sort == "closing":
        qs, key, descending = _closing_soon(qs, now)
    else:
        qs, key, descending = qs.annotate(sort_key=F("activity_at")), "sort_key", True
    if cursor:
        after_key, after_pk = _decode_cursor(cursor)
        if descending:
            qs = qs.filter(Q(**{f"{key}__lt": after_key}) | Q(**{key: after_key, "pk__lt": after_pk}))
        else:
            qs = qs.filter(Q(**{f"{key}__gt": after_key}) | Q(**{key: after_key, "pk__gt": after_pk}))
    # Plain DESC (not NULLS LAST): conversations without activity are filtered out above, and only this order
    # matches conv_activity_idx / conv_channel_activity_idx, so PostgreSQL walks the index instead of sorting
    # every conversation (bench/inbox_scale.py: ~90 ms -> ~1 ms at 100,000 conversations).
    order = [F(key).desc(), "-pk"] if descending else [F(key).asc(), "pk"]
    q = q.strip()
    if q:
        qs = _search(qs, q, order=order, limit=limit + 1)
    elif sort == "closing":
        # No index holds this order (it depends on `now`): pick the page's ids from the conversations alone,
        # then join the rows' contacts, assignees and messages for those only, not for the thousands sorted.
        qs = qs.filter(pk__in=qs.order_by(*order).values("pk")[: limit + 1])
    rows = list(
        qs.select_related("channel", "contact", "assignee", "last_message")
        .only(*LIST_FIELDS)
        .prefetch_related("tags")
        .order_by(*order)[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode_cursor(rows[-1].sort_key, rows[-1].pk) if has_more and rows[-1].sort_key else None
    return rows, next_cursor


def _filtered(*, user, channel_id, view, assignee) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(channel__is_active=True, activity_at__isnull=False)
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if view == "unread":
        qs = qs.filter(unread_count__gt=0)
    elif view == "read":
        qs = qs.filter(unread_count=0)
    elif view == "starred":
        qs = qs.filter(starred=True)
    elif view == "needs_reply":
        qs = qs.filter(last_inbound_at__isnull=False).filter(Q(last_reply_at__isnull=True) | Q(last_reply_at__lt=F("last_inbound_at")))
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        try:
            qs = qs.filter(assignee_id=int(assignee))
        except ValueError:
            raise InvalidQuery("assignee must be me, none or a staff id") from None
    return qs


def _search(qs: QuerySet[Conversation], q: str, *, order: list, limit: int) -> QuerySet[Conversation]:
    """Conversations of `qs` whose contact's name, one of whose tags, or one of whose bound member's tags contains
    `q` (any case).

    Written as the first `limit` rows (in the list's order) of each side, unioned: each side then gets its own
    plan on PostgreSQL. The name side walks the list's index while matches are common, and reads the trigram
    index (`contact_name_trgm_idx`, migration 0003) when they are rare; the tag side finds the tags (through
    `tag_name_trgm_idx` once there are enough of them for an index to pay) and their links. One `name LIKE ... OR id IN (tagged)` could only walk every
    conversation and test each (450-580 ms for a rare name at 100,000 conversations).
    """
    tagged = Conversation.tags.through.objects.filter(tag__name__icontains=q).values("conversation_id")
    # The tags staff give the bound member in the customer pane (customers.CustomerTag), through the binding.
    member_tagged = _contacts_with_member_tag(q)
    by_name = qs.filter(contact__display_name__icontains=q).order_by(*order).values("pk")[:limit]
    by_tag = qs.filter(pk__in=tagged).order_by(*order).values("pk")[:limit]
    sides = [by_name, by_tag]
    if member_tagged is not None:
        sides.append(qs.filter(contact_id__in=member_tagged).order_by(*order).values("pk")[:limit])
    if connections[qs.db].features.supports_slicing_ordering_in_compound:
        return qs.filter(pk__in=sides[0].union(*sides[1:], all=True))
    return qs.filter(functools.reduce(operator.or_, (Q(pk__in=side) for side in sides)))  # SQLite: no ORDER BY/LIMIT in a UNION


def _contacts_with_member_tag(q: str) -> RawSQL | None:
    """The contacts bound to a member with a tag containing `q` (any case), as a subquery; None when no member tag
    contains it (most searches: then that side costs nothing more).

    The matching tags are looked up first (a small table, one query): given their ids, PostgreSQL estimates the
    subquery's size and starts from it. Written as one join from the tag links straight to the bindings: the ORM
    would join them through the members' table, which PostgreSQL scanned whole, and with the tag's name in the
    subquery it walked every conversation probing each (200 ms at 100,000 conversations; benchmark 2)."""
    tags = apps.get_model("customers", "CustomerTag")
    tag_ids = list(tags.objects.filter(name__icontains=q).values_list("pk", flat=True)[:MAX_MEMBER_TAGS])
    if not tag_ids:
        return None
    if len(tag_ids) == MAX_MEMBER_TAGS:
        logger.info("search %r matches %d member tags or more: the first %d are searched", q, MAX_MEMBER_TAGS, MAX_MEMBER_TAGS)
    binding = apps.get_model("customers", "ContactBinding")
    links = apps.get_model("customers", "Customer").tags.through
    name = connections[binding.objects.db].ops.quote_name

    def column(model, field: str) -> str:
        return name(model._meta.get_field(field).column)

    return RawSQL(
        f"SELECT b.{column(binding, 'contact')} FROM {name(binding._meta.db_table)} b "
        f"JOIN {name(links._meta.db_table)} l ON l.{column(links, 'customer')} = b.{column(binding, 'customer')} "
        f"WHERE l.{column(links, 'customertag')} IN ({', '.join(['%s'] * len(tag_ids))})",
        tag_ids,
    )


MAX_MEMBER_TAGS = 50  # member tags one search looks through (a shop has a few dozen)


def _closing_soon(qs, now: dt.datetime):
    """Messenger conversations still reachable, the window that closes first on top."""
    day, week = dt.timedelta(hours=24), dt.timedelta(days=7)
    qs = qs.filter(channel__platform=Platform.MESSENGER, last_inbound_at__gt=now - week).annotate(
        sort_key=Case(
            # A reaction or a referral since the last message reopened the 24 hours (integrations.policy).
            When(
                Q(last_engaged_at__gt=now - day) & (Q(last_inbound_at__isnull=True) | Q(last_engaged_at__gt=F("last_inbound_at"))),
                then=ExpressionWrapper(F("last_engaged_at") + day, output_field=DateTimeField()),
            ),
            When(last_inbound_at__gt=now - day, then=ExpressionWrapper(F("last_inbound_at") + day, output_field=DateTimeField())),
            default=ExpressionWrapper(F("last_inbound_at") + week, output_field=DateTimeField()),
            output_field=DateTimeField(),
        )
    )
    return qs, "sort_key", False


def unread_counts() -> dict[int | str, int]:
    """Conversations with unread messages, per channel (those with any) and in all (`"all"`): one query.

    A count per active channel, each an index-only count over `conv_unread_channel_idx` (partial: unread only),
    rather than one join and hash aggregate over every unread conversation (about 1.6 ms instead of 4.4 ms at
    20,000 unread conversations on PostgreSQL).
    """
    unread = Conversation.objects.filter(channel=OuterRef("pk"), unread_count__gt=0).order_by().values("channel")
    rows = (
        Channel.objects.filter(is_active=True)
        .order_by()
        .annotate(n=Subquery(unread.annotate(n=Func(F("pk"), function="COUNT")).values("n")))
        .values_list("pk", "n")
    )
    counts: dict[int | str, int] = {pk: n for pk, n in rows if n}
    counts["all"] = sum(counts.values())
    return counts


def timeline(*, conversation: Conversation, before: int | None = None, limit: int = 50) -> tuple[list[Message], bool]:
    """The newest `limit` messages (or those before message id `before`), oldest first; and whether more exist."""
    qs = Message.objects.filter(conversation=conversation).select_related("sent_by")
    if before:
        pivot = Message.objects.filter(conversation=conversation, pk=before).values_list("platform_timestamp", flat=True).first()
        if pivot is None:
            raise InvalidQuery("unknown message")
        qs = qs.filter(Q(platform_timestamp__lt=pivot) | Q(platform_timestamp=pivot, pk__lt=before))
    rows = list(qs.order_by("-platform_timestamp", "-pk")[: limit + 1])
    return list(reversed(rows[:limit])), len(rows) > limit


def saved_replies(*, q: str = "", limit: int | None = None) -> QuerySet[SavedReply]:
    """Saved replies in shortcut order; with `q`, those whose shortcut or text contains it (any case)."""
    qs = SavedReply.objects.all()
    q = q.strip()
    if q:
        qs = qs.filter(Q(shortcut__icontains=q) | Q(text__icontains=q))
    return qs[:limit] if limit else qs


QUOTA_CACHE_SECONDS = 60


def quota_cache_key(channel_id: int) -> str:
    return f"line-quota:{channel_id}"


def channel_quota(channel) -> Quota | None:
    """The LINE account's monthly quota and usage (cached a minute); None for Messenger or when LINE
    can't be reached (the page says so rather than failing)."""
    if channel.platform != Platform.LINE:
        return None
    key = quota_cache_key(channel.pk)
    quota = cache_safely(cache.get, key)
    if quota is None:
        try:
            quota = get_client(channel).get_quota()
        except PlatformError:
            return None
        cache_safely(cache.set, key, quota, QUOTA_CACHE_SECONDS)
    return quota


def cache_safely(operation, *args):
    """A cache read or write that a cache outage (Redis down) turns into a miss, never into a failed page."""
    try:
        return operation(*args)
    except Exception:  # redis and other backends raise their own types
        logger.warning("cache unavailable: %s %s", operation.__name__, args[0], exc_info=True)
        return None
