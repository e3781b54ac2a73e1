"""The inbox's JSON API, included at /api/v1/ (see inbox.api)."""
from django.urls import path

from inbox import api

app_name = "inbox-api"

urlpatterns = [
    path("channels/", api.ChannelListApi.as_view(), name="channel-list"),
    path("conversations/", api.ConversationListApi.as_view(), name="conversation-list"),
    path("conversations/<int:conversation_id>/", api.ConversationDetailApi.as_view(), name="conversation-detail"),
    path("conversations/<int:conversation_id>/messages/", api.MessageListSendApi.as_view(), name="conversation-messages"),
    path("conversations/<int:conversation_id>/assign/", api.ConversationAssignApi.as_view(), name="conversation-assign"),
    path("conversations/<int:conversation_id>/star/", api.ConversationStarApi.as_view(), name="conversation-star"),
    path("conversations/<int:conversation_id>/read/", api.ConversationReadApi.as_view(), name="conversation-read"),
    path("conversations/<int:conversation_id>/note/", api.ConversationNoteApi.as_view(), name="conversation-note"),
    path("messages/<int:message_id>/retry/", api.MessageRetryApi.as_view(), name="message-retry"),
    path("saved-replies/", api.SavedReplyListCreateApi.as_view(), name="saved-reply-list"),
    path("saved-replies/<int:reply_id>/", api.SavedReplyDetailApi.as_view(), name="saved-reply-detail"),
    path("staff/", api.StaffListApi.as_view(), name="staff-list"),
    path("events/", api.EventListApi.as_view(), name="event-list"),
]
