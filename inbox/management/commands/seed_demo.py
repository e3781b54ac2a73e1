"""`manage.py seed_demo`: a shop to try the inbox with. Idempotent: running it again changes nothing
but the demo passwords, which it prints.

Creates staff `admin` (administrator) and `agent`, two Facebook pages (primary + secondary) and one LINE
account, 50 conversations with history spread over the last ten days (some inside the 24-hour window,
some in the 7-day human-agent window, some closed), and registers the same pages, account and people in
the platform sandbox so the simulator at /sandbox/ can play the customers.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from inbox.models import Contact, Conversation, Message, SavedReply, Tag
from integrations.base import Platform
from integrations.models import Channel

PAGES = [
    {"name": "好物選品 Goodies", "page_id": "104000000000001", "secondary": False},
    {"name": "好物選品 Outlet", "page_id": "104000000000002", "secondary": True},
]
LINE = {"name": "好物選品 LINE", "channel_id": "2000000001", "destination": "U" + "d" * 32}
APP_ID = "555000111"
NAMES = [
    "陳怡君", "林志豪", "黃雅婷", "張家豪", "李佩珊", "王俊傑", "吳欣怡", "劉建宏", "蔡佳穎", "楊宗翰",
    "許惠雯", "鄭志明", "謝宜蓁", "郭書豪", "洪淑芬", "曾冠宇", "邱詩涵", "廖偉倫", "賴美玲", "周柏翰",
    "Amy Chen", "Kevin Lin", "Grace Wang", "Jason Wu", "Irene Tsai", "Leo Huang", "Mia Hsu", "Ryan Lee",
    "Zoe Chang", "Eric Kuo",
]
CUSTOMER_LINES = [
    "請問這款還有貨嗎？", "想問運費怎麼算", "可以超商取貨嗎？", "請問有M號嗎", "我想訂兩件黑色的",
    "什麼時候會出貨呢？", "可以開統編嗎", "匯款好了，末五碼 12345", "有沒有優惠碼？", "謝謝！",
]
SAVED_REPLIES = [
    ("hi", "您好，歡迎光臨好物選品！請問想找哪一款呢？"),
    ("ship", "運費 60 元，滿 1000 元免運；7-11、全家取貨或宅配都可以喔。"),
    ("pay", "匯款帳號：(822) 123-456-789012，匯款後請告訴我們末五碼，謝謝！"),
    ("wait", "已為您保留，三天內完成付款即可出貨。"),
]
TAGS = ["VIP", "回購", "待匯款"]
STAFF_LINES = ["您好，有的喔！", "運費 60 元，滿 1000 免運", "可以的，7-11 和全家都可以", "已為您保留，謝謝", "今天會出貨喔"]


def secret_for(label: str) -> str:
    """Stable demo secrets: the sandbox and the app must agree, and reruns must not change them."""
    return hashlib.sha256(f"demo:{label}".encode()).hexdigest()[:32]


class Command(BaseCommand):
    help = "Create demo staff, channels and conversations (idempotent) and print the logins."

    def handle(self, *args, **options):
        with transaction.atomic():
            passwords = self.seed_staff()
            channels = self.seed_channels()
            self.seed_conversations(channels)
            self.seed_saved_replies_and_tags()
            self.seed_customers()
            call_command("seed_catalog")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for username, password in passwords.items():
            self.stdout.write(f"  login: {username} / {password}")

    def seed_staff(self) -> dict[str, str]:
        agents, _ = Group.objects.get_or_create(name="agents")
        passwords = {}
        for username, is_admin in (("admin", True), ("agent", False)):
            user, _ = User.objects.get_or_create(username=username)
            user.is_staff = is_admin
            user.is_superuser = is_admin
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save()
            if not is_admin:
                user.groups.add(agents)
            passwords[username] = password
        self.agent = User.objects.get(username="agent")
        return passwords

    def seed_channels(self) -> list[Channel]:
        from integrations.sandbox import services as sandbox

        base = settings.PUBLIC_BASE_URL
        channels = []
        for position, page in enumerate(PAGES):
            channel, _ = Channel.objects.update_or_create(
                platform=Platform.MESSENGER,
                external_id=page["page_id"],
                defaults={
                    "name": page["name"],
                    "app_secret": secret_for("app"),
                    "verify_token": secret_for("verify"),
                    "access_token": secret_for(page["page_id"]),
                    "app_id": APP_ID,
                    "is_primary": not page["secondary"],
                    "position": position,
                },
            )
            sandbox.register_page(
                page_id=page["page_id"], name=page["name"], app_id=APP_ID, app_secret=channel.app_secret,
                access_token=channel.access_token, webhook_url=f"{base}{channel.webhook_path}",
            )
            channels.append(channel)
        line, _ = Channel.objects.update_or_create(
            platform=Platform.LINE,
            external_id=LINE["channel_id"],
            defaults={
                "name": LINE["name"],
                "app_secret": secret_for("line-secret"),
                "access_token": secret_for("line-token"),
                "line_destination": LINE["destination"],
                "position": (Channel.objects.filter(platform=Platform.LINE).aggregate(m=Max("position"))["m"] or 0),
            },
        )
        sandbox.register_line_bot(
            destination=LINE["destination"], channel_id=LINE["channel_id"], name=LINE["name"],
            channel_secret=line.app_secret, access_token=line.access_token, webhook_url=f"{base}{line.webhook_path}",
            quota_limit=500,
        )
        channels.append(line)
        return channels

    def seed_conversations(self, channels: list[Channel]) -> None:
        from integrations.sandbox.models import SandboxLineBot, SandboxPage, SandboxUser

        rng = random.Random(20261125)  # the same history on every run
        now = timezone.now()
        plan = [channels[0]] * 20 + [channels[1]] * 10 + [channels[2]] * 20
        for n, channel in enumerate(plan):
            name = NAMES[n % len(NAMES)]
            if channel.platform == Platform.MESSENGER:
                user_id = f"7{n:015d}"
            else:
                user_id = "U" + hashlib.md5(f"demo-user-{n}".encode()).hexdigest()
            contact, _ = Contact.objects.get_or_create(
                channel=channel, platform_user_id=user_id, defaults={"display_name": name, "profile_fetched_at": now}
            )
            conversation, created = Conversation.objects.get_or_create(contact=contact, defaults={"channel": channel})
            # Ages from minutes to ten days: some open windows, some human-agent only, some closed.
            last_inbound = now - dt.timedelta(minutes=rng.choice([5, 40, 180, 600, 1500, 3000, 6000, 9000, 12000, 14400]) + n)
            if created:
                self.add_history(rng, conversation, channel, last_inbound, n)
                conversation.refresh_from_db()
            user_fields = {"display_name": name, "last_user_message_at": conversation.last_inbound_at}
            if channel.platform == Platform.MESSENGER:
                page = SandboxPage.objects.get(page_id=channel.external_id)
                SandboxUser.objects.update_or_create(platform="messenger", page=page, user_id=user_id, defaults=user_fields)
            else:
                bot = SandboxLineBot.objects.get(destination=channel.line_destination)
                SandboxUser.objects.update_or_create(platform="line", bot=bot, user_id=user_id, defaults=user_fields)

    def seed_saved_replies_and_tags(self) -> None:
        for shortcut, text in SAVED_REPLIES:
            SavedReply.objects.get_or_create(shortcut=shortcut, defaults={"text": text})
        tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
        for n, conversation in enumerate(Conversation.objects.order_by("pk")[:12]):
            conversation.tags.add(tags[n % len(tags)])

    def seed_customers(self) -> None:
        """30 members, each bound to one of the demo chats, with an address and some store credit."""
        from customers import services as customers
        from customers.models import ContactBinding, Customer

        contacts = list(Contact.objects.order_by("pk")[:30])
        for n, contact in enumerate(contacts):
            if ContactBinding.objects.filter(contact=contact).exists():
                continue
            email = f"member{n + 1:02d}@example.com"
            customer = Customer.objects.filter(email=email).first()
            if customer is None:
                customer = customers.create_customer(
                    name=contact.display_name, email=email, phone=f"0912{n + 1:06d}", source=Customer.Source.INBOX, actor=self.agent
                )
                customers.add_address(
                    customer=customer, actor=self.agent, recipient_name=contact.display_name, recipient_phone=f"0912{n + 1:06d}",
                    postal_code="110", city="台北市", district="信義區", street=f"市府路 {n + 1} 號",
                )
                if n % 3 == 0:
                    customers.adjust_credit(customer=customer, amount=200, reason="demo", actor=self.agent)
            customers.bind_contact(contact=contact, customer=customer, actor=self.agent)

    def add_history(self, rng, conversation, channel, last_inbound, n) -> None:
        turns = rng.randint(2, 6)
        at = last_inbound - dt.timedelta(minutes=15 * turns)
        message = None
        unread = 0
        for turn in range(turns):
            at += dt.timedelta(minutes=15)
            inbound = turn % 2 == 0 or turn == turns - 1
            message = Message.objects.create(
                conversation=conversation,
                channel=channel,
                direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
                source=Message.Source.CUSTOMER if inbound else Message.Source.STAFF,
                text=rng.choice(CUSTOMER_LINES if inbound else STAFF_LINES),
                platform_message_id=f"seed-{channel.pk}-{n}-{turn}",
                state=Message.State.RECEIVED if inbound else Message.State.READ,
                sent_by=None if inbound else self.agent,
                platform_timestamp=at,
                sent_at=None if inbound else at,
            )
            unread = unread + 1 if inbound else 0
        Conversation.objects.filter(pk=conversation.pk).update(
            last_inbound_at=at, last_message_at=at, activity_at=at, last_message=message, unread_count=unread if n % 3 else 0,
            last_reply_at=at - dt.timedelta(minutes=15) if turns > 2 else None,
        )
