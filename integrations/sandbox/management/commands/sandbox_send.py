"""Play a customer from the shell: send one webhook through the sandbox and print the app's answer.

    manage.py sandbox_send messenger --page-id P --psid X --text "hi" [--at 2026-11-01T10:00:00+08:00] [--sticker ID]
    manage.py sandbox_send line --destination U... --user U... --text "hi" [--sticker PKG:ID] [--redeliver]
"""
import argparse
import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.sandbox import services
from integrations.sandbox.delivery import DeliveryResult
from integrations.sandbox.models import Platform, SandboxLineBot, SandboxPage


class Command(BaseCommand):
    help = "Send a customer message to the app as a signed Messenger or LINE webhook, via the sandbox."

    def add_arguments(self, parser):
        platforms = parser.add_subparsers(dest="platform", required=True)
        messenger = platforms.add_parser("messenger", help="a Messenger message to a Page")
        messenger.add_argument("--page-id", required=True)
        messenger.add_argument("--psid", required=True, help="the customer's page-scoped id (created if new)")
        messenger.add_argument("--at", type=parse_moment, help="ISO 8601 event time, to backdate the conversation")
        self._add_content_arguments(messenger, sticker_help="sticker id, e.g. 369239263222822")
        line = platforms.add_parser("line", help="a LINE message to a bot")
        line.add_argument("--destination", required=True, help="the bot's user id (U + 32 hex)")
        line.add_argument("--user", required=True, help="the customer's LINE user id (created if new)")
        line.add_argument("--redeliver", action="store_true", help="deliver the same event again, isRedelivery=true")
        self._add_content_arguments(line, sticker_help="PACKAGE:STICKER, e.g. 446:1988")

    @staticmethod
    def _add_content_arguments(parser, *, sticker_help: str) -> None:
        content = parser.add_mutually_exclusive_group(required=True)
        content.add_argument("--text")
        content.add_argument("--sticker", help=sticker_help)

    def handle(self, *args, platform: str, text: str | None, sticker: str | None, **options):
        said = {"text": text} if text is not None else {"sticker": _sticker(sticker)}
        try:
            if platform == Platform.MESSENGER:
                result = services.user_says(
                    Platform.MESSENGER, page_id=options["page_id"], user_id=options["psid"], at=options["at"], **said
                )
                self._report(result)
                return
            result = services.user_says(
                Platform.LINE, destination=options["destination"], user_id=options["user"], **said
            )
            self._report(result)
            if options["redeliver"]:
                self._report(services.redeliver(options["destination"], result.event), label="redelivery: ")
        except (SandboxPage.DoesNotExist, SandboxLineBot.DoesNotExist):
            raise CommandError("no such page or bot is registered in the sandbox") from None
        except ValueError as error:
            raise CommandError(str(error)) from None

    def _report(self, result: DeliveryResult, label: str = "") -> None:
        if result.status_code is None:
            self.stdout.write(f"{label}no answer: {result.error}")
        else:
            self.stdout.write(f"{label}HTTP {result.status_code}")


def parse_moment(value: str) -> dt.datetime:
    """ISO 8601; without an offset it is read in the project's time zone."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date-time") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _sticker(value: str) -> tuple[str, str] | str:
    package, _, sticker_id = value.rpartition(":")
    return (package, sticker_id) if package else sticker_id
