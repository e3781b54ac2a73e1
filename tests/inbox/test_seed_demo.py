import pytest
from django.core.management import call_command

from inbox.models import Contact, Conversation, Message, SavedReply
from integrations.models import Channel
from integrations.sandbox.models import SandboxUser

pytestmark = pytest.mark.django_db


def counts():
    return [m.objects.count() for m in (Channel, Contact, Conversation, Message, SavedReply, SandboxUser)]


def test_seed_demo_is_idempotent_and_prints_logins(capsys):
    call_command("seed_demo")
    first = counts()
    out = capsys.readouterr().out
    assert "login: admin / " in out and "login: agent / " in out
    call_command("seed_demo")
    assert counts() == first
    pages = Channel.objects.filter(platform="messenger").order_by("position")
    assert [p.is_primary for p in pages] == [True, False]
    assert Channel.objects.filter(platform="line").count() == 1
    assert Conversation.objects.count() == 50
    from customers.models import ContactBinding, Customer
    from orders.models import Product

    assert Customer.objects.count() == 30 and ContactBinding.objects.count() == 30
    assert Product.objects.exists()
    # Some windows open, some human-agent only, some closed: the demo shows every banner.
    assert Conversation.objects.filter(channel__platform="messenger").values("last_inbound_at").distinct().count() > 5
