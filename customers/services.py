"""Changes to store members: create, bind a chat, edit, merge, addresses and store credit.

Every service is keyword-only, runs in one transaction, locks the member rows it changes with
`select_for_update()` (always in primary-key order, through `lock_customers`, so two services never wait
on each other in opposite orders), writes an audit entry, and tells open inboxes what changed after commit
with an event `{"type": "customer", "op": ..., "customer_id": ..., "conversation_ids": [...]}`.

Login details (email, phone) are normalized before anything else and must stay unique among members. A
clash raises `DuplicateCustomer`, whose `outcome` is what the reference's prompts offer: "duplicate"
(one other member has them: merge, i.e. "update binding") or "reenter" (the email and the phone belong to
two different members). A change that goes through is the third outcome, "updated".
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import selectors
from customers.errors import CustomerGone, DuplicateCustomer
from customers.models import (
    MAX_ADDRESSES,
    Address,
    ContactBinding,
    CreditEntry,
    Customer,
    CustomerAuditEntry,
    CustomerTag,
    MemberTier,
)
from customers.normalize import InvalidContactDetail, normalize_email, normalize_phone
from inbox import events
from inbox.errors import ApplicationError
from inbox.models import Contact

MAX_TAGS = 20
MAX_NOTES = 2000


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()  # "leave as it is", where "" or None would mean "clear"


# --- Helpers ---------------------------------------------------------------------------------------------


def lock_customers(ids: Iterable[int]) -> dict[int, Customer]:
    """Lock these members' rows, in primary-key order; the ones that no longer exist are missing."""
    rows = Customer.objects.filter(pk__in=set(ids)).order_by("pk").select_for_update()
    return {row.pk: row for row in rows}


def _lock_one(customer_id: int) -> Customer:
    locked = lock_customers([customer_id])
    if customer_id not in locked:
        raise CustomerGone(_("This member no longer exists; it may have been merged into another one."))
    return locked[customer_id]


def _clean_email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except InvalidContactDetail as exc:
        raise ApplicationError(exc.message) from None


def _clean_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidContactDetail as exc:
        raise ApplicationError(exc.message) from None


def _text(raw) -> str:
    """Free text as the database can store it (PostgreSQL refuses NUL characters)."""
    return str(raw or "").replace("\x00", "")


def _clean_name(raw: str) -> str:
    name = " ".join(_text(raw).split())
    if len(name) > 200:
        raise ApplicationError(_("A name can have at most 200 characters."))
    return name


def check_identities(*, email: str, phone: str, exclude_id: int | None = None) -> None:
    """Raise `DuplicateCustomer` when a normalized email or phone belongs to another member."""
    others = Customer.objects.exclude(pk=exclude_id) if exclude_id else Customer.objects.all()
    by_email = others.filter(email=email).first() if email else None
    by_phone = others.filter(phone=phone).first() if phone else None
    fields = {}
    if by_email:
        fields["email"] = by_email.pk
    if by_phone:
        fields["phone"] = by_phone.pk
    if by_email and by_phone and by_email.pk != by_phone.pk:
        raise DuplicateCustomer(
            _("The email belongs to one member and the phone number to another. Please re-enter them."),
            outcome=DuplicateCustomer.REENTER,
            matches=[by_email, by_phone],
            fields=fields,
        )
    match = by_email or by_phone
    if match:
        raise DuplicateCustomer(
            _("These details belong to an existing member: %(name)s.")
            % {"name": str(match)},
            outcome=DuplicateCustomer.DUPLICATE,
            matches=[match],
            fields=fields,
        )


def _tags_from_names(names: Iterable[str]) -> list[CustomerTag]:
    cleaned: list[str] = []
    for raw in names:
        name = " ".join(_text(raw).split())
        if not name:
            continue
        if len(name) > 50:
            raise ApplicationError(_("A tag can have at most 50 characters."))
        if name.lower() not in {n.lower() for n in cleaned}:
            cleaned.append(name)
    if len(cleaned) > MAX_TAGS:
        raise ApplicationError(_("A member can have at most %(max)d tags.") % {"max": MAX_TAGS})
    tags = []
    for name in cleaned:
        tag = CustomerTag.objects.filter(name__iexact=name).first() or CustomerTag.objects.get_or_create(name=name)[0]
        tags.append(tag)
    return tags


def _conversation_ids(customer_ids: Iterable[int]) -> list[int]:
    from inbox.models import Conversation

    return sorted(
        Conversation.objects.filter(contact__customer_binding__customer_id__in=list(customer_ids)).values_list("pk", flat=True)
    )


def _publish(op: str, customer: Customer | None, *, conversation_ids: Iterable[int] = (), **extra) -> None:
    """Tell open inboxes (after commit) that the member shown beside these conversations changed."""
    ids = set(conversation_ids)
    if customer is not None:
        ids.update(_conversation_ids([customer.pk]))
    events.publish_on_commit(
        {"type": "customer", "op": op, "customer_id": customer.pk if customer else None, "conversation_ids": sorted(ids), **extra}
    )


def _audit(customer: Customer, action: str, actor, **data) -> CustomerAuditEntry:
    return CustomerAuditEntry.objects.create(customer=customer, action=action, actor=_user(actor), data=data)


def _user(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _save_identity(customer: Customer, fields: list[str]) -> None:
    """Save, turning a concurrent insert of the same email or phone into the same prompt as the check."""
    try:
        with transaction.atomic():
            customer.save(update_fields=[*fields, "updated_at"] if customer.pk else None)
    except IntegrityError:
        check_identities(email=customer.email, phone=customer.phone, exclude_id=customer.pk)
        raise


# --- Members ----------------------------------------------------------------------------------------------


@transaction.atomic
def create_customer(
    *,
    name: str = "",
    email: str = "",
    phone: str = "",
    tier: MemberTier | None = None,
    tags: Iterable[str] = (),
    notes: str = "",
    source: str = Customer.Source.INBOX,
    actor=None,
) -> Customer:
    """A new member. Either an email or a phone number is enough; both must be new to the shop."""
    email, phone, name = _clean_email(email), _clean_phone(phone), _clean_name(name)
    if not email and not phone:
        raise ApplicationError(_("Enter an email address or a phone number."))
    if len(notes or "") > MAX_NOTES:
        raise ApplicationError(_("Notes can have at most %(max)d characters.") % {"max": MAX_NOTES})
    check_identities(email=email, phone=phone)
    customer = Customer(name=name, email=email, phone=phone, tier=tier, notes=_text(notes), source=source)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        check_identities(email=email, phone=phone)
        raise
    tag_rows = _tags_from_names(tags)
    if tag_rows:
        customer.tags.set(tag_rows)
    _audit(customer, CustomerAuditEntry.Action.CREATE, actor, name=name, email=email, phone=phone, source=source)
    return customer


@transaction.atomic
def update_customer(
    *,
    customer: Customer,
    actor,
    name: str | _Unset = UNSET,
    email: str | _Unset = UNSET,
    phone: str | _Unset = UNSET,
    tier: MemberTier | None | _Unset = UNSET,
    tags: Iterable[str] | _Unset = UNSET,
    notes: str | _Unset = UNSET,
) -> Customer:
    """Change a member's details. New login details update the member everywhere (every bound chat).

    Raises `DuplicateCustomer` before changing anything when the email or phone belongs to another member.
    """
    locked = _lock_one(customer.pk)
    changes: dict[str, object] = {}
    if not isinstance(name, _Unset):
        changes["name"] = _clean_name(name)
    if not isinstance(email, _Unset):
        changes["email"] = _clean_email(email)
    if not isinstance(phone, _Unset):
        changes["phone"] = _clean_phone(phone)
    if not isinstance(notes, _Unset):
        if len(notes or "") > MAX_NOTES:
            raise ApplicationError(_("Notes can have at most %(max)d characters.") % {"max": MAX_NOTES})
        changes["notes"] = _text(notes)
    if not isinstance(tier, _Unset):
        changes["tier_id"] = tier.pk if tier else None
    new_email = changes.get("email", locked.email)
    new_phone = changes.get("phone", locked.phone)
    if not new_email and not new_phone:
        raise ApplicationError(_("A member needs an email address or a phone number."))
    check_identities(
        email=new_email if new_email != locked.email else "",
        phone=new_phone if new_phone != locked.phone else "",
        exclude_id=locked.pk,
    )
    before = {field: getattr(locked, field) for field in changes}
    changed = [field for field, value in changes.items() if before[field] != value]
    for field in changed:
        setattr(locked, field, changes[field])
    if changed:
        _save_identity(locked, changed)
    if not isinstance(tags, _Unset):
        old = sorted(locked.tags.values_list("name", flat=True))
        tag_rows = _tags_from_names(tags)
        locked.tags.set(tag_rows)
        new = sorted(t.name for t in tag_rows)
        if old != new:
            before["tags"] = old
            changes["tags"] = new
            changed.append("tags")
    if changed:
        _audit(
            locked,
            CustomerAuditEntry.Action.UPDATE,
            actor,
            changes={field: {"from": before[field], "to": changes[field]} for field in changed},
        )
        _publish("update", locked)
    return locked


# --- Chat bindings ---------------------------------------------------------------------------------------


def _fill_blanks(customer: Customer, *, name: str = "", email: str = "", phone: str = "") -> list[str]:
    """Details typed for a chat go onto an existing member only where it has none (never replace a login)."""
    filled = []
    for field, value in (("name", name), ("email", email), ("phone", phone)):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
            filled.append(field)
    return filled


@transaction.atomic
def bind_contact(*, contact: Contact, customer: Customer, actor, name: str = "", email: str = "", phone: str = "") -> ContactBinding:
    """Bind a chat to an existing member (picked from the matches, or chosen to merge with).

    Details typed for the chat (`name`, `email`, `phone`) fill the member's blanks; they never replace the
    member's own login details, and one that belongs to a third member is refused like any clash.
    """
    locked = _lock_one(customer.pk)
    existing = ContactBinding.objects.select_for_update().filter(contact=contact).first()
    if existing and existing.customer_id == locked.pk:
        return existing
    if existing:
        raise ApplicationError(_("This chat is already bound to another member. Unbind it first."))
    name, email, phone = _clean_name(name), _clean_email(email), _clean_phone(phone)
    filled = _fill_blanks(locked, name=name, email=email if email != locked.email else "", phone=phone if phone != locked.phone else "")
    if filled:
        check_identities(
            email=locked.email if "email" in filled else "", phone=locked.phone if "phone" in filled else "", exclude_id=locked.pk
        )
        _save_identity(locked, filled)
    try:
        with transaction.atomic():
            binding = ContactBinding.objects.create(contact=contact, customer=locked, bound_by=_user(actor))
    except IntegrityError:
        raise ApplicationError(_("This chat was just bound by someone else. Reload to see the member.")) from None
    _audit(
        locked,
        CustomerAuditEntry.Action.BIND,
        actor,
        contact_id=contact.pk,
        contact=str(contact),
        channel_id=contact.channel_id,
        filled={field: getattr(locked, field) for field in filled},
    )
    _publish("bind", locked)
    return binding


@transaction.atomic
def bind_new_customer(*, contact: Contact, name: str = "", email: str = "", phone: str = "", actor) -> Customer:
    """Create a member from details typed beside a chat and bind the chat to it.

    The name defaults to the chat's display name. A clash with an existing member raises
    `DuplicateCustomer` (nothing is created): the agent merges with that member or re-enters.
    """
    if ContactBinding.objects.filter(contact=contact).exists():
        raise ApplicationError(_("This chat is already bound to another member. Unbind it first."))
    customer = create_customer(
        name=name or contact.display_name, email=email, phone=phone, source=Customer.Source.INBOX, actor=actor
    )
    bind_contact(contact=contact, customer=customer, actor=actor)
    return customer


@transaction.atomic
def unbind_contact(*, contact: Contact, actor) -> Customer:
    """Free the chat from its member. Nothing else changes: the member and its history stay."""
    binding = ContactBinding.objects.select_for_update().filter(contact=contact).first()
    if binding is None:
        raise ApplicationError(_("This chat is not bound to a member."))
    customer = binding.customer
    conversation_ids = _conversation_ids([customer.pk])
    binding.delete()
    _audit(customer, CustomerAuditEntry.Action.UNBIND, actor, contact_id=contact.pk, contact=str(contact), channel_id=contact.channel_id)
    _publish("unbind", customer, conversation_ids=conversation_ids)
    return customer


@transaction.atomic
def confirm_order_customer(*, contact: Contact, customer: Customer, actor) -> tuple[Customer, str]:
    """Flow (C): the agent looked at the existing member this chat's orders point at (a live-stream order,
    say) and confirms it is the same customer. Returns the member the chat is now bound to and the outcome:

    - "bound": the chat had no member; it is bound to this one;
    - "merged": the chat was bound to another member (typically one the agent just created); that member is
      merged into this one (`merge_customers`: chats, orders, addresses, credit and history move);
    - "unchanged": the chat was already bound to this member.

    Only a member the chat's orders really point at can be confirmed this way (`order_customer_match`).
    """
    # Not locked here: bind_contact and merge_customers lock the members (pk order) and the binding themselves.
    binding = ContactBinding.objects.filter(contact=contact).first()
    if binding is not None and binding.customer_id == customer.pk:
        return customer, "unchanged"
    match = selectors.order_customer_match(
        contact=contact, customer_id=customer.pk, exclude_customer_id=binding.customer_id if binding else None
    )
    if match is None:
        raise ApplicationError(_("This chat's orders don't point at that member."))
    if binding is None:
        bind_contact(contact=contact, customer=customer, actor=actor)
        return selectors.customer_get(customer.pk) or customer, "bound"
    source = binding.customer
    merged = merge_customers(target=customer, source=source, actor=actor)
    return merged, "merged"


# --- Merge -----------------------------------------------------------------------------------------------

# What merge_customers moves itself; every other table pointing at a member (orders.Order among them) is
# re-pointed generically, so adding such a table cannot make a merge lose its rows.
_MERGED_BY_NAME = {ContactBinding, Address, CreditEntry, CustomerAuditEntry}


def _snapshot(customer: Customer) -> dict:
    return {
        "id": customer.pk,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "tier": customer.tier.name if customer.tier_id else None,
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "notes": customer.notes,
        "credit_balance": customer.credit_balance,
        "source": customer.source,
        "created_at": customer.created_at.isoformat(),
    }


@transaction.atomic
def merge_customers(
    *, target: Customer, source: Customer, actor, email: str | _Unset = UNSET, phone: str | _Unset = UNSET, now: dt.datetime | None = None
) -> Customer:
    """Merge member `source` into `target`, atomically; `source` no longer exists afterwards.

    Moves chats, addresses (at most 5 stay current, newest first; the rest are archived, not lost), tags,
    notes, credit entries (the balances add up), audit history and every other row pointing at `source`.
    `target` keeps its own details and takes `source`'s where it has none. `email`/`phone`, when given,
    are then set on `target` (the details the agent typed when offered the merge). One audit entry records
    who merged what, when, and `source` as it was.

    Both rows are locked in primary-key order first, so concurrent edits of either member wait for the
    merge (and then find `source` gone) instead of writing into a half-merged pair.
    """
    if target.pk == source.pk:
        raise ApplicationError(_("A member can't be merged into itself."))
    now = now or timezone.now()
    locked = lock_customers([target.pk, source.pk])
    if target.pk not in locked or source.pk not in locked:
        raise CustomerGone(_("This member no longer exists; it may have been merged into another one."))
    into, gone = locked[target.pk], locked[source.pk]
    snapshot = _snapshot(gone)
    moved: dict[str, object] = {}
    conversation_ids = _conversation_ids([into.pk, gone.pk])

    moved["contacts"] = sorted(ContactBinding.objects.filter(customer=gone).values_list("contact_id", flat=True))
    ContactBinding.objects.filter(customer=gone).update(customer=into)

    moved["addresses"] = sorted(Address.objects.filter(customer=gone).values_list("pk", flat=True))
    default_before = Address.objects.filter(customer=into, is_default=True, archived_at__isnull=True).first()
    Address.objects.filter(customer=gone).update(customer=into, is_default=False)
    current = list(Address.objects.filter(customer=into, archived_at__isnull=True).order_by("-created_at", "-pk"))
    archived = [a.pk for a in current[MAX_ADDRESSES:]]
    if archived:
        Address.objects.filter(pk__in=archived).update(archived_at=now, is_default=False)
    moved["addresses_archived"] = archived
    if default_before is None or default_before.pk in archived:
        _ensure_default(into)

    moved["credit_entries"] = sorted(CreditEntry.objects.filter(customer=gone).values_list("pk", flat=True))
    CreditEntry.objects.filter(customer=gone).update(customer=into)
    into.credit_balance += gone.credit_balance

    moved["audit_entries"] = CustomerAuditEntry.objects.filter(customer=gone).update(customer=into)

    tags = list(gone.tags.all())
    if tags:
        into.tags.add(*tags)
    moved["tags"] = sorted(t.name for t in tags)

    other: dict[str, int] = {}
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model in _MERGED_BY_NAME or relation.many_to_many or model is Customer:
            continue
        if relation.one_to_one:
            if model._default_manager.filter(**{relation.field.name: into}).exists():
                raise ApplicationError(_("Both members have a %(what)s; it can't be merged.") % {"what": model._meta.verbose_name})
        count = model._default_manager.filter(**{relation.field.name: gone}).update(**{relation.field.name: into})
        if count:
            other[model._meta.label] = count
    for relation in Customer._meta.related_objects:
        if relation.many_to_many and relation.related_model is not Customer:
            # Another model's many-to-many to members: add `target` wherever `source` was.
            for obj in relation.related_model._default_manager.filter(**{relation.field.name: gone}):
                getattr(obj, relation.field.name).add(into)
                other[relation.related_model._meta.label] = other.get(relation.related_model._meta.label, 0) + 1
    moved["other"] = other

    if gone.notes and gone.notes.strip() != into.notes.strip():
        into.notes = f"{into.notes}\n\n{gone.notes}".strip() if into.notes else gone.notes
    if gone.tier_id and (not into.tier_id or gone.tier.rank > into.tier.rank):
        into.tier_id = gone.tier_id
    gone_id = gone.pk
    gone.delete()
    # The identities `source` held are free now; `target` takes them where it has none.
    filled = _fill_blanks(into, name=snapshot["name"], email=snapshot["email"], phone=snapshot["phone"])
    into.save(update_fields=["name", "email", "phone", "notes", "tier", "credit_balance", "updated_at"])

    changes = {}
    if not isinstance(email, _Unset) or not isinstance(phone, _Unset):
        new_email = into.email if isinstance(email, _Unset) else _clean_email(email)
        new_phone = into.phone if isinstance(phone, _Unset) else _clean_phone(phone)
        if not new_email and not new_phone:
            raise ApplicationError(_("A member needs an email address or a phone number."))
        check_identities(
            email=new_email if new_email != into.email else "", phone=new_phone if new_phone != into.phone else "", exclude_id=into.pk
        )
        for field, value in (("email", new_email), ("phone", new_phone)):
            if value != getattr(into, field):
                changes[field] = {"from": getattr(into, field), "to": value}
                setattr(into, field, value)
        if changes:
            _save_identity(into, list(changes))

    CustomerAuditEntry.objects.create(
        customer=into,
        action=CustomerAuditEntry.Action.MERGE,
        actor=_user(actor),
        merged_customer_id=gone_id,
        data={"merged": snapshot, "moved": moved, "filled": filled, "changes": changes},
    )
    _publish("merge", into, conversation_ids=conversation_ids, merged_customer_id=gone_id)
    return into


# --- Addresses -------------------------------------------------------------------------------------------

_POSTAL = re.compile(r"^\d{3}(\d{2,3})?$")


def _address_fields(*, recipient_name, recipient_phone, postal_code, city, district, street) -> dict:
    fields = {
        "recipient_name": " ".join(_text(recipient_name).split()),
        "recipient_phone": _clean_phone(_text(recipient_phone)),
        "postal_code": _text(postal_code).strip(),
        "city": _text(city).strip(),
        "district": _text(district).strip(),
        "street": " ".join(_text(street).split()),
    }
    if not fields["recipient_name"]:
        raise ApplicationError(_("Enter the recipient's name."))
    if not fields["street"]:
        raise ApplicationError(_("Enter the street address."))
    if fields["postal_code"] and not _POSTAL.match(fields["postal_code"]):
        raise ApplicationError(_("A postal code has 3, 5 or 6 digits."))
    limits = {"recipient_name": 100, "postal_code": 10, "city": 50, "district": 50, "street": 200}
    for field, limit in limits.items():
        if len(fields[field]) > limit:
            raise ApplicationError(_("An address field is too long."))
    return fields


def _ensure_default(customer: Customer) -> None:
    current = Address.objects.filter(customer=customer, archived_at__isnull=True)
    if not current.filter(is_default=True).exists():
        newest = current.order_by("-created_at", "-pk").first()
        if newest:
            Address.objects.filter(pk=newest.pk).update(is_default=True)


def _make_default(address: Address) -> None:
    Address.objects.filter(customer_id=address.customer_id, is_default=True).exclude(pk=address.pk).update(is_default=False)
    Address.objects.filter(pk=address.pk).update(is_default=True)
    address.is_default = True


@transaction.atomic
def add_address(
    *,
    customer: Customer,
    actor,
    recipient_name: str,
    street: str,
    recipient_phone: str = "",
    postal_code: str = "",
    city: str = "",
    district: str = "",
    is_default: bool = False,
) -> Address:
    """Save a shipping address (at most 5). The first one, or one marked default, becomes the default."""
    locked = _lock_one(customer.pk)
    fields = _address_fields(
        recipient_name=recipient_name, recipient_phone=recipient_phone, postal_code=postal_code, city=city, district=district, street=street
    )
    current = Address.objects.filter(customer=locked, archived_at__isnull=True)
    if current.count() >= MAX_ADDRESSES:
        raise ApplicationError(
            _("A member can keep at most %(max)d addresses. Delete one before adding another.") % {"max": MAX_ADDRESSES}
        )
    first = not current.exists()
    address = Address.objects.create(customer=locked, **fields)
    if first or is_default:
        _make_default(address)
    _audit(locked, CustomerAuditEntry.Action.ADDRESS, actor, op="add", address_id=address.pk, address=str(address))
    _publish("update", locked)
    return address


@transaction.atomic
def update_address(
    *,
    address: Address,
    actor,
    recipient_name: str | _Unset = UNSET,
    recipient_phone: str | _Unset = UNSET,
    postal_code: str | _Unset = UNSET,
    city: str | _Unset = UNSET,
    district: str | _Unset = UNSET,
    street: str | _Unset = UNSET,
    is_default: bool = False,
) -> Address:
    """Change an address (fields left out stay); `is_default=True` makes it the default (there is always one)."""
    locked = _lock_one(address.customer_id)
    row = Address.objects.filter(pk=address.pk, customer=locked).first()
    if row is None:
        raise CustomerGone(_("This address no longer exists."))
    given = {
        "recipient_name": recipient_name, "recipient_phone": recipient_phone, "postal_code": postal_code,
        "city": city, "district": district, "street": street,
    }
    fields = _address_fields(
        **{field: getattr(row, field) if isinstance(value, _Unset) else value for field, value in given.items()}
    )
    for field, value in fields.items():
        setattr(row, field, value)
    row.save(update_fields=[*fields, "updated_at"])
    if is_default:
        if row.archived_at is not None:
            raise ApplicationError(_("An archived address can't be the default."))
        _make_default(row)
    row.refresh_from_db()
    _audit(locked, CustomerAuditEntry.Action.ADDRESS, actor, op="update", address_id=row.pk, address=str(row), default=row.is_default)
    _publish("update", locked)
    return row


@transaction.atomic
def delete_address(*, address: Address, actor) -> None:
    """Delete an address; when it was the default, the newest remaining one becomes the default."""
    locked = _lock_one(address.customer_id)
    row = Address.objects.filter(pk=address.pk, customer=locked).first()
    if row is None:
        raise CustomerGone(_("This address no longer exists."))
    text = str(row)
    row.delete()
    _ensure_default(locked)
    _audit(locked, CustomerAuditEntry.Action.ADDRESS, actor, op="delete", address_id=address.pk, address=text)
    _publish("update", locked)


# --- Store credit ----------------------------------------------------------------------------------------


@transaction.atomic
def adjust_credit(
    *,
    customer: Customer,
    amount: int,
    reason: str,
    actor,
    kind: str | None = None,
    expires_at: dt.datetime | None = None,
    order_id: int | None = None,
    now: dt.datetime | None = None,
) -> CreditEntry:
    """Grant (amount > 0) or take (amount < 0) store credit, in whole TWD. The balance never goes below 0.

    Credit taken comes out of the grants that expire first, so expiry only removes what is really left.
    """
    now = now or timezone.now()
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ApplicationError(_("Enter a whole amount of TWD other than zero."))
    if abs(amount) > 10_000_000:
        raise ApplicationError(_("That amount is too large."))
    reason = " ".join(_text(reason).split())
    if not reason:
        raise ApplicationError(_("Give a reason for the change."))
    if len(reason) > 200:
        raise ApplicationError(_("A reason can have at most 200 characters."))
    if expires_at is not None:
        if timezone.is_naive(expires_at):
            raise ApplicationError(_("Give the expiry with its time zone."))
        if amount < 0:
            raise ApplicationError(_("Only credit granted can expire."))
        if expires_at <= now:
            raise ApplicationError(_("The expiry must be in the future."))
    locked = _lock_one(customer.pk)
    if locked.credit_balance + amount < 0:
        raise ApplicationError(
            _("Store credit can't go below zero: the balance is NT$%(balance)s.") % {"balance": locked.credit_balance}
        )
    if amount < 0:
        _consume(locked, -amount)
    entry = CreditEntry.objects.create(
        customer=locked,
        kind=kind or (CreditEntry.Kind.GRANT if amount > 0 else CreditEntry.Kind.SPEND),
        amount=amount,
        remaining=amount if amount > 0 else 0,
        reason=reason,
        order_id=order_id,
        expires_at=expires_at,
        created_by=_user(actor),
    )
    Customer.objects.filter(pk=locked.pk).update(credit_balance=F("credit_balance") + amount)
    locked.credit_balance += amount
    _audit(locked, CustomerAuditEntry.Action.CREDIT, actor, amount=amount, reason=reason, entry_id=entry.pk, balance=locked.credit_balance)
    _publish("update", locked)
    return entry


def _consume(customer: Customer, amount: int) -> None:
    """Take `amount` out of the remaining grants, those that expire first first (never-expiring last)."""
    grants = (
        CreditEntry.objects.filter(customer=customer, remaining__gt=0)
        .order_by(F("expires_at").asc(nulls_last=True), "created_at", "pk")
    )
    for grant in grants:
        if amount <= 0:
            break
        take = min(amount, grant.remaining)
        CreditEntry.objects.filter(pk=grant.pk).update(remaining=F("remaining") - take)
        amount -= take


def expire_credit(*, now: dt.datetime | None = None) -> int:
    """Write an expiry entry for what remains of every grant past its expiry; returns how many expired."""
    now = now or timezone.now()
    customer_ids = set(
        CreditEntry.objects.filter(remaining__gt=0, expires_at__lte=now).values_list("customer_id", flat=True)
    )
    count = 0
    for customer_id in sorted(customer_ids):
        with transaction.atomic():
            locked = lock_customers([customer_id]).get(customer_id)
            if locked is None:
                continue
            expired_here = 0
            for grant in CreditEntry.objects.filter(customer=locked, remaining__gt=0, expires_at__lte=now).order_by("pk"):
                left = min(grant.remaining, locked.credit_balance)
                CreditEntry.objects.filter(pk=grant.pk).update(remaining=0)
                if left <= 0:
                    continue
                reason = _("Expired: %(reason)s") % {"reason": grant.reason}
                CreditEntry.objects.create(customer=locked, kind=CreditEntry.Kind.EXPIRY, amount=-left, reason=reason[:200])
                locked.credit_balance -= left
                expired_here += 1
            if expired_here:
                Customer.objects.filter(pk=locked.pk).update(credit_balance=locked.credit_balance)
                _publish("update", locked)
                count += expired_here
    return count
