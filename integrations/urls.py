from django.urls import path

from integrations.line.webhooks import line_webhook
from integrations.messenger.webhooks import messenger_webhook

urlpatterns = [
    path("messenger/", messenger_webhook, name="webhook-messenger"),
    path("line/<int:channel_id>/", line_webhook, name="webhook-line"),
]
