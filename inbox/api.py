"""The inbox's JSON API, mounted at /api/v1/: what the staff page's scripts and other clients call.

One view per URL, `<Entity><Action>Api`. A view parses its input with a nested serializer, calls one
selector or service (keyword arguments, `now` from `timezone.now()`), and answers with the shapes the
realtime events carry: a conversation is `events.conversation_payload` plus its channel and tags, a
message is `events.message_payload`. A page that loaded from the API and then applied events therefore
shows what a fresh load would. Where one URL serves two operations (list and send, list and create) the
view has one method per operation, each with its own nested serializers.

Errors the services raise for people become answers, never 500s:
- `SendRefused` (the platform's rules forbid this send now) -> 409 {"detail", "window", "needs_confirmation"}
- any other `ApplicationError`, and `selectors.InvalidQuery` -> 400 {"detail"}
- bad input -> DRF's 400 {"field": ["..."]}; unknown ids -> 404.
"""
from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from config.parsers import JSONParser
from config.serializer_fields import StrictCharField, StrictModelSerializer
from inbox import events, selectors
from inbox.errors import ApplicationError, SendRefused
from inbox.models import Conversation, Message, SavedReply
from inbox.permissions import ADMINS, AGENTS, IsInboxAdminOrAuthorOrReadOnly, IsInboxAdminOrReadOnly, IsInboxStaff
from inbox.services import conversations, messaging, saved_replies
from integrations.models import Channel
from integrations.policy import Window


# --- Representations shared by several endpoints ---------------------------------------------------------
# Their fields are declared for the OpenAPI schema; the data itself comes from `inbox.events`, so the API
# and the realtime events cannot drift apart (tests compare the keys with these declarations).


def conversation_data(conversation: Conversation, *, now: dt.datetime) -> dict:
    """The realtime summary of a conversation plus what only a full load needs: the channel and the tags."""
    channel = conversation.channel
    return {
        **events.conversation_payload(conversation, now=now),
        "channel": {"id": channel.pk, "name": channel.name, "platform": channel.platform},
        "tags": [{"id": tag.pk, "name": tag.name} for tag in conversation.tags.all()],
    }


class DecisionSerializer(serializers.Serializer):
    """What the platform allows for the next message (`integrations.policy.Decision`)."""

    allowed = serializers.BooleanField()
    window = serializers.ChoiceField(choices=[w.value for w in Window])
    reason = StrictCharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    messaging_type = StrictCharField(help_text="Messenger: RESPONSE or MESSAGE_TAG; empty otherwise.")
    tag = StrictCharField(help_text="Messenger: HUMAN_AGENT after 24 hours; empty otherwise.")
    use_reply_token = serializers.BooleanField()
    billed = serializers.BooleanField(help_text="LINE: a push counted against the paid quota.")


class ContactSerializer(serializers.Serializer):
    name = StrictCharField()
    avatar = StrictCharField()
    platform_id = StrictCharField()


class ChannelRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()
    platform = serializers.ChoiceField(choices=Channel.Platform.choices)


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()


class LastMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=Message.Direction.choices)
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    text = StrictCharField(help_text="The first 120 characters.")
    created_at = serializers.DateTimeField()


class TagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = StrictCharField()


class ConversationSerializer(serializers.Serializer):
    """A conversation as the list, the header and the realtime events show it."""

    # The window is computed at `context["now"]` (one instant for a whole page).

    id = serializers.IntegerField()
    channel_id = serializers.IntegerField()
    channel = ChannelRefSerializer()
    contact = ContactSerializer()
    unread_count = serializers.IntegerField()
    assignee = UserRefSerializer(allow_null=True)
    starred = serializers.BooleanField()
    star_due_at = serializers.DateTimeField(allow_null=True)
    note = StrictCharField(allow_blank=True)
    needs_reply = serializers.BooleanField(help_text="The customer wrote after the last answer by a person.")
    last_message = LastMessageSerializer(allow_null=True)
    activity_at = serializers.DateTimeField(allow_null=True)
    window = DecisionSerializer(help_text="What a person may send next.")
    tags = TagSerializer(many=True)

    def to_representation(self, instance: Conversation) -> dict:
        return conversation_data(instance, now=self.context.get("now") or timezone.now())


class AttachmentSerializer(serializers.Serializer):
    """The common keys; some kinds add their own (a sticker's `sticker_id`, a location's coordinates)."""

    type = StrictCharField()
    url = StrictCharField(required=False)


class MessageSerializer(serializers.Serializer):
    """A message as the timeline and the realtime events show it."""

    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=Message.Direction.choices)
    source = serializers.ChoiceField(choices=Message.Source.choices)
    kind = serializers.ChoiceField(choices=Message.Kind.choices)
    text = StrictCharField(allow_blank=True)
    attachments = AttachmentSerializer(many=True)
    state = serializers.ChoiceField(choices=Message.State.choices)
    error = StrictCharField(allow_blank=True)
    sent_by = StrictCharField(allow_null=True, help_text="The username of the person who sent it.")
    billed = serializers.BooleanField(allow_null=True)
    window = serializers.ChoiceField(choices=[w.value for w in Window], allow_null=True, help_text="The window it was sent in.")
    created_at = serializers.DateTimeField()

    def to_representation(self, instance: Message) -> dict:
        return events.message_payload(instance)


class ErrorSerializer(serializers.Serializer):
    detail = StrictCharField()


# A 400 is {"detail": "..."} when a service refuses, or DRF's {"<field>": ["..."]} for bad input.
BAD_REQUEST = OpenApiResponse(
    {"type": "object", "additionalProperties": True},
    description='Bad input: {"detail": "..."} or {"<field>": ["..."]}.',
)


class SendRefusedSerializer(serializers.Serializer):
    detail = StrictCharField(help_text="Why the message can't be sent now, for people.")
    window = DecisionSerializer(allow_null=True)
    needs_confirmation = serializers.BooleanField(help_text="Send again with confirm_paid=true to send a paid LINE push.")


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its UTC offset. A naive time would be guessed in the server's zone: refused."""

    default_error_messages = {"naive": _("Give the time with its UTC offset, e.g. 2025-05-01T18:00:00+08:00.")}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "enum": ["me"]}], "nullable": True})
class AssigneeField(serializers.Field):
    """A staff id, "me" or null (nobody)."""

    default_error_messages = {"invalid": _('Give a staff id, "me" or null.')}

    def to_internal_value(self, data):
        if data == "me":
            return data
        if isinstance(data, int) and not isinstance(data, bool):
            return data
        if isinstance(data, str) and data.isdigit():
            return int(data)
        self.fail("invalid")

    def to_representation(self, value):
        return value


def refusal(exc: SendRefused) -> dict:
    return {
        "detail": exc.message,
        "window": exc.extra.get("window"),
        "needs_confirmation": bool(exc.extra.get("needs_confirmation", False)),
    }


_SEND_RESPONSES = {
    400: OpenApiResponse(
        {"type": "object", "additionalProperties": True},
        description='Bad input, or an image that is not a JPEG or PNG: {"detail": "..."} or {"<field>": ["..."]}.',
    ),
    404: ErrorSerializer,
    409: OpenApiResponse(SendRefusedSerializer, description="The platform's rules don't allow this send now."),
}


# The base of the inbox's views: shop staff only, the services' errors answered as the module says.
# (A comment, not a docstring: the schema would show it as every view's description.)
class InboxApi(APIView):
    permission_classes = [IsInboxStaff]

    def handle_exception(self, exc):
        if isinstance(exc, SendRefused):
            return Response(refusal(exc), status=status.HTTP_409_CONFLICT)
        if isinstance(exc, ApplicationError):
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, selectors.InvalidQuery):
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return super().handle_exception(exc)


# --- Channels, staff, events ------------------------------------------------------------------------------


@extend_schema(tags=["channels"])
class ChannelListApi(InboxApi):
    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = Channel
            fields = ("id", "platform", "name", "is_primary", "position", "auth_error")
            ref_name = "Channel"

    @extend_schema(summary="Connected channels (the tabs), in tab order", responses=OutputSerializer(many=True))
    def get(self, request):
        channels = Channel.objects.filter(is_active=True)
        return Response(self.OutputSerializer(channels, many=True).data)


@extend_schema(tags=["staff"])
class StaffListApi(InboxApi):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = StrictCharField()
        name = serializers.SerializerMethodField()

        class Meta:
            ref_name = "Staff"

        def get_name(self, user) -> str:
            return user.get_full_name() or user.get_username()

    @extend_schema(summary="Active shop staff, for the assignee picker", responses=OutputSerializer(many=True))
    def get(self, request):
        staff = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(Q(is_superuser=True) | Q(groups__name__in=[ADMINS, AGENTS]))
            .distinct()
            .order_by("username")
        )
        return Response(self.OutputSerializer(staff, many=True).data)


@extend_schema(tags=["events"])
class EventListApi(InboxApi):
    class FilterSerializer(serializers.Serializer):
        since = serializers.IntegerField(min_value=0, help_text="The last `seq` the browser saw.")

        class Meta:
            ref_name = "EventListFilter"

    class OutputSerializer(serializers.Serializer):
        results = serializers.ListField(
            child=serializers.DictField(), help_text="Events after `since`, oldest first, each with its `seq`."
        )

        class Meta:
            ref_name = "EventList"

    @extend_schema(
        operation_id="v1_events_list",
        summary="Catch up on the events missed while the socket was away",
        parameters=[FilterSerializer],
        responses={
            200: OutputSerializer,
            400: BAD_REQUEST,
            410: OpenApiResponse(ErrorSerializer, description='Too old or too many to replay: {"detail": "reload"}.'),
        },
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        missed = events.events_since(params.validated_data["since"])
        if missed is None:
            return Response({"detail": "reload"}, status=status.HTTP_410_GONE)
        return Response(self.OutputSerializer({"results": missed}).data)


# --- Conversations --------------------------------------------------------------------------------------


@extend_schema(tags=["conversations"])
class ConversationListApi(InboxApi):
    class FilterSerializer(serializers.Serializer):
        channel = serializers.IntegerField(required=False, min_value=1, help_text="A channel id; all channels when left out.")
        view = serializers.ChoiceField(choices=selectors.VIEWS, default="all")
        assignee = StrictCharField(required=False, help_text="me, none or a staff id.")
        q = StrictCharField(required=False, default="", allow_blank=True, max_length=100, help_text="Contact name or tag.")
        sort = serializers.ChoiceField(
            choices=selectors.SORTS, default="recent", help_text="closing: Messenger conversations whose window closes first."
        )
        cursor = StrictCharField(required=False, help_text="From the previous page's `next`.")
        limit = serializers.IntegerField(required=False, default=selectors.PAGE_SIZE, min_value=1, max_value=selectors.MAX_PAGE_SIZE)

        class Meta:
            ref_name = "ConversationListFilter"

    class OutputSerializer(serializers.Serializer):
        results = ConversationSerializer(many=True)
        next = serializers.URLField(allow_null=True, help_text="The next page, or null at the end.")
        unread_counts = serializers.DictField(
            child=serializers.IntegerField(), help_text='Conversations with unread messages per channel id, and "all".'
        )

        class Meta:
            ref_name = "ConversationList"

    @extend_schema(
        operation_id="v1_conversations_list",
        summary="One page of conversations (keyset pagination)",
        parameters=[FilterSerializer],
        responses={200: OutputSerializer, 400: BAD_REQUEST},
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        now = timezone.now()
        rows, next_cursor = selectors.conversation_list(
            user=request.user,
            channel_id=filters.get("channel"),
            view=filters["view"],
            assignee=filters.get("assignee"),
            q=filters["q"],
            sort=filters["sort"],
            cursor=filters.get("cursor"),
            limit=filters["limit"],
            now=now,
        )
        page = {
            "results": rows,
            "next": replace_query_param(request.build_absolute_uri(), "cursor", next_cursor) if next_cursor else None,
            "unread_counts": selectors.unread_counts(),
        }
        return Response(self.OutputSerializer(page, context={"now": now}).data)


@extend_schema(tags=["conversations"])
class ConversationDetailApi(InboxApi):
    @extend_schema(summary="One conversation", responses={200: ConversationSerializer, 404: ErrorSerializer})
    def get(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        return Response(ConversationSerializer(conversation, context={"now": timezone.now()}).data)


class ConversationActionApi(InboxApi):
    """POST: validate the input, run one service on the conversation, answer with the conversation."""

    InputSerializer: type[serializers.Serializer]

    def act(self, *, conversation, data: dict, user):
        raise NotImplementedError

    def post(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = self.act(conversation=conversation, data=serializer.validated_data, user=request.user)
        return Response(ConversationSerializer(conversation, context={"now": timezone.now()}).data)


def action_schema(summary: str, input_serializer):
    return extend_schema_view(
        post=extend_schema(
            summary=summary,
            request=input_serializer,
            responses={200: ConversationSerializer, 400: BAD_REQUEST, 404: ErrorSerializer},
        )
    )


class AssignInput(serializers.Serializer):
    assignee = AssigneeField(allow_null=True, help_text='A staff id, "me", or null for nobody.')

    class Meta:
        ref_name = "ConversationAssignInput"


@extend_schema(tags=["conversations"])
@action_schema("Assign to a staff member, or to nobody", AssignInput)
class ConversationAssignApi(ConversationActionApi):
    InputSerializer = AssignInput

    def act(self, *, conversation, data, user):
        assignee_id = user.pk if data["assignee"] == "me" else data["assignee"]
        return conversations.assign_conversation(conversation=conversation, assignee_id=assignee_id, actor=user)


class StarInput(serializers.Serializer):
    starred = serializers.BooleanField()
    due_at = AwareDateTimeField(
        required=False, allow_null=True, default=None, help_text="When it comes back to the top of the list (starred only)."
    )

    class Meta:
        ref_name = "ConversationStarInput"


@extend_schema(tags=["conversations"])
@action_schema("Star for follow-up, optionally with a due time", StarInput)
class ConversationStarApi(ConversationActionApi):
    InputSerializer = StarInput

    def act(self, *, conversation, data, user):
        return conversations.star_conversation(conversation=conversation, starred=data["starred"], due_at=data["due_at"], actor=user)


class ReadInput(serializers.Serializer):
    read = serializers.BooleanField(help_text="false marks it unread again.")

    class Meta:
        ref_name = "ConversationReadInput"


@extend_schema(tags=["conversations"])
@action_schema("Mark read or unread", ReadInput)
class ConversationReadApi(ConversationActionApi):
    InputSerializer = ReadInput

    def act(self, *, conversation, data, user):
        return conversations.mark_read(conversation=conversation, read=data["read"], actor=user)


class NoteInput(serializers.Serializer):
    note = StrictCharField(allow_blank=True, trim_whitespace=False, help_text="Staff's note; empty clears it.")

    class Meta:
        ref_name = "ConversationNoteInput"


@extend_schema(tags=["conversations"])
@action_schema("Set the staff note", NoteInput)
class ConversationNoteApi(ConversationActionApi):
    InputSerializer = NoteInput

    def act(self, *, conversation, data, user):
        return conversations.set_note(conversation=conversation, note=data["note"], actor=user)


# --- Messages -------------------------------------------------------------------------------------------


@extend_schema(tags=["messages"])
class MessageListSendApi(InboxApi):
    """GET: the timeline, a page at a time. POST: send a message (JSON, or multipart with an image)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        before = serializers.IntegerField(required=False, min_value=1, help_text="A message id: the page before it.")

        class Meta:
            ref_name = "MessageListFilter"

    class ListOutputSerializer(serializers.Serializer):
        results = MessageSerializer(many=True, help_text="Oldest first.")
        has_more = serializers.BooleanField(help_text="Older messages exist: ask again with before=<the first id>.")

        class Meta:
            ref_name = "MessageList"

    class InputSerializer(serializers.Serializer):
        text = StrictCharField(required=False, default="", allow_blank=True, trim_whitespace=False)
        confirm_paid = serializers.BooleanField(
            required=False, default=False, help_text="Confirms a paid LINE push (asked once per conversation)."
        )

        class Meta:
            ref_name = "MessageSendInput"

    class UploadInputSerializer(InputSerializer):
        image = serializers.FileField(required=False, help_text="A JPEG or PNG of at most 8 MB.")

        class Meta:
            ref_name = "MessageSendUploadInput"

    @extend_schema(
        operation_id="v1_conversations_messages_list",
        summary="The conversation's messages, newest page first",
        parameters=[FilterSerializer],
        responses={200: ListOutputSerializer, 400: BAD_REQUEST, 404: ErrorSerializer},
    )
    def get(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        messages, has_more = selectors.timeline(conversation=conversation, before=params.validated_data.get("before"))
        return Response(self.ListOutputSerializer({"results": messages, "has_more": has_more}).data)

    @extend_schema(
        summary="Send a message to the customer",
        description="Queued and delivered in the background; its `state` follows in realtime events. "
        "A 409 says why the platform's rules don't allow it now (and whether a paid push needs confirming).",
        request={"application/json": InputSerializer, "multipart/form-data": UploadInputSerializer},
        responses={201: MessageSerializer, **_SEND_RESPONSES},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.access_conversation(request.user, conversation_id)
        serializer = self.UploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = messaging.send_message(
            conversation=conversation,
            author=request.user,
            text=data["text"],
            image=data.get("image"),
            confirm_paid=data["confirm_paid"],
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["messages"])
class MessageRetryApi(InboxApi):
    class InputSerializer(serializers.Serializer):
        confirm_paid = serializers.BooleanField(required=False, default=False)

        class Meta:
            ref_name = "MessageRetryInput"

    @extend_schema(
        summary="Send a failed message again, under today's rules",
        request=InputSerializer,
        responses={200: MessageSerializer, **_SEND_RESPONSES},
    )
    def post(self, request, message_id: int):
        message = get_object_or_404(Message, pk=message_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = messaging.retry_message(message=message, actor=request.user, confirm_paid=serializer.validated_data["confirm_paid"])
        return Response(MessageSerializer(message).data)


# --- Saved replies --------------------------------------------------------------------------------------
# Read with `selectors.saved_replies`, written by `inbox.services.saved_replies` (the views never write).


class SavedReplyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedReply
        fields = ("id", "shortcut", "text", "created_by", "updated_at")
        ref_name = "SavedReply"


@extend_schema(tags=["saved replies"])
class SavedReplyListCreateApi(InboxApi):
    """GET: every staff member (with `q`). POST: every staff member too, as they save a reply from the chat (the
    seed's "預存訊息回覆"); changing or deleting one is for admins (SavedReplyDetailApi)."""

    permission_classes = [IsInboxStaff]

    class FilterSerializer(serializers.Serializer):
        q = StrictCharField(required=False, default="", allow_blank=True, max_length=100, help_text="In the shortcut or the text.")

        class Meta:
            ref_name = "SavedReplyFilter"

    class InputSerializer(StrictModelSerializer):
        class Meta:
            model = SavedReply
            fields = ("shortcut", "text")
            ref_name = "SavedReplyInput"

    @extend_schema(summary="Saved replies", parameters=[FilterSerializer], responses={200: SavedReplyOutputSerializer(many=True), 400: BAD_REQUEST})
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        replies = selectors.saved_replies(q=params.validated_data["q"])
        return Response(SavedReplyOutputSerializer(replies, many=True).data)

    @extend_schema(summary="Save a reply for everyone to reuse (every staff member)", request=InputSerializer, responses={201: SavedReplyOutputSerializer, 400: BAD_REQUEST})
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reply = saved_replies.saved_reply_create(created_by=request.user, **serializer.validated_data)
        return Response(SavedReplyOutputSerializer(reply).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["saved replies"])
class SavedReplyDetailApi(InboxApi):
    """GET: every staff member. PATCH, DELETE: the reply's author and admins."""

    permission_classes = [IsInboxAdminOrAuthorOrReadOnly]

    class InputSerializer(StrictModelSerializer):
        class Meta:
            model = SavedReply
            fields = ("shortcut", "text")
            ref_name = "SavedReplyUpdateInput"

    @extend_schema(summary="One saved reply", responses={200: SavedReplyOutputSerializer, 404: ErrorSerializer})
    def get(self, request, reply_id: int):
        reply = get_object_or_404(SavedReply, pk=reply_id)
        return Response(SavedReplyOutputSerializer(reply).data)

    @extend_schema(
        summary="Change a saved reply (its author or an admin)",
        request=InputSerializer(partial=True),
        responses={200: SavedReplyOutputSerializer, 400: BAD_REQUEST, 404: ErrorSerializer},
    )
    def patch(self, request, reply_id: int):
        reply = get_object_or_404(SavedReply, pk=reply_id)
        self.check_object_permissions(request, reply)
        serializer = self.InputSerializer(reply, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        reply = saved_replies.saved_reply_update(reply=reply, **serializer.validated_data)
        return Response(SavedReplyOutputSerializer(reply).data)

    @extend_schema(summary="Delete a saved reply (its author or an admin)", responses={204: None, 404: ErrorSerializer})
    def delete(self, request, reply_id: int):
        reply = get_object_or_404(SavedReply, pk=reply_id)
        self.check_object_permissions(request, reply)
        saved_replies.saved_reply_delete(reply=reply)
        return Response(status=status.HTTP_204_NO_CONTENT)
