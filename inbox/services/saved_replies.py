"""Saved replies (canned answers staff insert by typing `/`): the only place that writes them.

Admins manage them through the API; the checks here hold whoever calls (the API's serializer checks the
same fields first, so people normally see its per-field messages). A broken rule raises `ApplicationError`.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from inbox.errors import ApplicationError
from inbox.models import SavedReply

EDITABLE = ("shortcut", "text")


def _checked_save(reply: SavedReply, *, update_fields: list[str] | None = None) -> SavedReply:
    try:
        reply.full_clean(exclude=["created_by"], validate_unique=False)
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages)) from None
    limit = SavedReply._meta.get_field("text").max_length  # a TextField's max_length is not a validator
    if len(reply.text) > limit:
        raise ApplicationError(_("A saved reply is at most %(limit)d characters.") % {"limit": limit})
    taken = SavedReply.objects.filter(shortcut=reply.shortcut).exclude(pk=reply.pk).exists()
    if taken:
        raise ApplicationError(_("A saved reply with the shortcut /%(shortcut)s already exists.") % {"shortcut": reply.shortcut})
    try:
        with transaction.atomic():  # a savepoint: two admins saving the same shortcut at once
            reply.save(update_fields=update_fields)
    except IntegrityError:
        raise ApplicationError(_("A saved reply with the shortcut /%(shortcut)s already exists.") % {"shortcut": reply.shortcut}) from None
    return reply


@transaction.atomic
def saved_reply_create(*, shortcut: str, text: str, created_by=None) -> SavedReply:
    """Add a saved reply."""
    return _checked_save(SavedReply(shortcut=shortcut, text=text, created_by=created_by))


@transaction.atomic
def saved_reply_update(*, reply: SavedReply, shortcut: str | None = None, text: str | None = None) -> SavedReply:
    """Change a saved reply's shortcut and/or text (None leaves a field as it is)."""
    changed = {field: value for field, value in (("shortcut", shortcut), ("text", text)) if value is not None}
    for field, value in changed.items():
        setattr(reply, field, value)
    return _checked_save(reply, update_fields=[*changed, "updated_at"])


@transaction.atomic
def saved_reply_delete(*, reply: SavedReply) -> None:
    """Remove a saved reply."""
    reply.delete()
