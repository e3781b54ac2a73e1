"""One real row behind every path argument of the protected routes, so a request reaches the view's own
checks instead of stopping at a 404 for an id that doesn't exist (which would pass a permission test
without proving anything).

`samples()` returns the values by argument name; `missing_arguments()` names the arguments of routes that
have no sample, so a new route with a new kind of id fails the tests until it is given a real row here.
"""
from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from customers import services as customer_services
from inbox.models import Message, SavedReply
from orders import confirmation
from orders.models import OrderTag, PaymentProof
from tests import factories
from tests.orders.public.factories import make_order
from tests.security.routes import Route


def make_rows(*, messenger_channel, line_channel, actor, tmp_path, monkeypatch) -> dict[str, str]:
    """A chat with a message, a saved reply, a member bound to the chat with an address, an order of the chat
    with a stored transfer proof, a saved order tag; the proof file lands under `tmp_path`."""
    monkeypatch.setattr(PaymentProof._meta.get_field("file"), "storage", FileSystemStorage(location=tmp_path / "private"))
    conversation = factories.conversation(messenger_channel, name="Mei")
    message = Message.objects.filter(conversation=conversation).first()
    reply = SavedReply.objects.create(shortcut="hi", text="Hello!")
    customer = customer_services.create_customer(name="Mei", phone="0912345678", actor=actor)
    customer_services.bind_contact(contact=conversation.contact, customer=customer, actor=actor)
    address = customer_services.add_address(customer=customer, actor=actor, recipient_name="Mei", street="松仁路 1 號")
    order = make_order(conversation=conversation, customer=customer)
    proof = PaymentProof(order=order, content_type="image/png", size=8)
    proof.file.save("proof.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    proof.save()
    tag = OrderTag.objects.create(name="VIP")
    return {
        "conversation_id": str(conversation.pk),
        "message_id": str(message.pk),
        "reply_id": str(reply.pk),
        "customer_id": str(customer.pk),
        "address_id": str(address.pk),
        "order_id": str(order.pk),
        "proof_id": str(proof.pk),
        "tag_id": str(tag.pk),
        "channel_id": str(line_channel.pk),
        "token": confirmation.order_token(order),
    }


def missing_arguments(routes: list[Route], samples: dict[str, str]) -> dict[str, list[str]]:
    return {r.pattern: [a for a in r.arguments if a not in samples] for r in routes if any(a not in samples for a in r.arguments)}
