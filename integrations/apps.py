from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Platform integrations"

    def ready(self):
        from integrations import webhook_channels
        from integrations.models import Channel

        # The webhook views keep the channels a second (integrations.webhook_channels): a change made here is seen at once.
        post_save.connect(webhook_channels.forget_when_committed, sender=Channel, dispatch_uid="webhook-channels-saved")
        post_delete.connect(webhook_channels.forget_when_committed, sender=Channel, dispatch_uid="webhook-channels-deleted")
