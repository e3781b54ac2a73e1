"""`manage.py add_channel messenger|line ...`: connect a channel and print its webhook URL."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations import services


class Command(BaseCommand):
    help = "Connect a Facebook Page or a LINE Official Account and print the webhook URL to register."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="platform", required=True)
        messenger = sub.add_parser("messenger", help="a Facebook Page")
        messenger.add_argument("--name", required=True)
        messenger.add_argument("--page-id", required=True)
        messenger.add_argument("--app-secret", required=True)
        messenger.add_argument("--verify-token", required=True)
        messenger.add_argument("--access-token", required=True)
        messenger.add_argument("--app-id", default="")
        messenger.add_argument("--secondary", action="store_true", help="a secondary page (the primary comes first)")
        line = sub.add_parser("line", help="a LINE Official Account (Messaging API channel)")
        line.add_argument("--name", required=True)
        line.add_argument("--channel-id", required=True)
        line.add_argument("--channel-secret", required=True)
        line.add_argument("--access-token", required=True)

    def handle(self, *args, **opts):
        try:
            if opts["platform"] == "messenger":
                channel = services.messenger_channel_add(
                    name=opts["name"],
                    page_id=opts["page_id"],
                    app_secret=opts["app_secret"],
                    verify_token=opts["verify_token"],
                    access_token=opts["access_token"],
                    app_id=opts["app_id"],
                    secondary=opts["secondary"],
                )
            else:
                channel = services.line_channel_add(
                    name=opts["name"],
                    channel_id=opts["channel_id"],
                    channel_secret=opts["channel_secret"],
                    access_token=opts["access_token"],
                )
        except services.ChannelError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Connected {channel} (id {channel.pk})")
        self.stdout.write(f"Webhook URL: {settings.PUBLIC_BASE_URL}{channel.webhook_path}")
