"""Mounted at /sandbox/ when settings.SANDBOX_ENABLED.

The fake platforms live under the prefixes the app's clients are pointed at:
GRAPH_API_BASE=<host>/sandbox/graph/v25.0, LINE_API_BASE=<host>/sandbox/line,
LINE_DATA_API_BASE=<host>/sandbox/line-data. Platform paths have no trailing slash, like the real ones.
"""
from django.urls import path, re_path

from integrations.sandbox import graph_views, line_views, simulator_views

app_name = "sandbox"

GRAPH_NODE = r"^graph/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)"

urlpatterns = [
    # Meta Graph API
    re_path(GRAPH_NODE + r"/messages/?$", graph_views.send_message, name="graph-send"),
    re_path(GRAPH_NODE + r"/?$", graph_views.read_node, name="graph-node"),
    # LINE Messaging API (api.line.me) and content API (api-data.line.me)
    path("line/v2/bot/message/reply", line_views.reply, name="line-reply"),
    path("line/v2/bot/message/push", line_views.push, name="line-push"),
    path("line/v2/bot/message/multicast", line_views.multicast, name="line-multicast"),
    path("line/v2/bot/message/quota", line_views.quota, name="line-quota"),
    path("line/v2/bot/message/quota/consumption", line_views.quota_consumption, name="line-quota-consumption"),
    path("line/v2/bot/profile/<str:user_id>", line_views.profile, name="line-profile"),
    path("line-data/v2/bot/message/<str:message_id>/content", line_views.content, name="line-content"),
    # The customer simulator
    path("", simulator_views.simulator, name="simulator"),
    path("api/users", simulator_views.users, name="users"),
    path("api/users/<int:pk>/messages", simulator_views.user_messages, name="user-messages"),
    path("api/users/<int:pk>/say", simulator_views.user_say, name="user-say"),
    path("api/users/<int:pk>/read", simulator_views.user_read, name="user-read"),
    path("api/users/<int:pk>/follow", simulator_views.user_follow, name="user-follow"),
    path("api/users/<int:pk>/unfollow", simulator_views.user_unfollow, name="user-unfollow"),
    path("api/faults", simulator_views.faults, name="faults"),
    path("api/faults/clear", simulator_views.faults_clear, name="faults-clear"),
    path("media/<str:key>", simulator_views.media, name="media"),
    path("stickers/<path:sticker_id>.svg", simulator_views.sticker, name="sticker"),
    path("avatars/<str:user_id>.svg", simulator_views.avatar, name="avatar"),
]
