"""Store members: who a chat belongs to, their addresses, store credit and history.

Rules live in `customers.services` (writes) and `customers.selectors` (reads); the models hold data and
the constraints the database can enforce by itself:
- email and phone are login identities, stored normalized (`customers.normalize`), unique when set;
- a chat contact is bound to at most one member (`ContactBinding.contact` is one-to-one);
- the credit balance never goes below zero (a check constraint backs the services' ledger).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MAX_ADDRESSES = 5


class MemberTier(models.Model):
    """A membership level the shop defines; `rank` orders them (0 = the entry level)."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0)

    class Meta:
        ordering = ["rank", "name"]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    """A label on a member (the customer's "tags and notes"), distinct from a conversation's tags."""

    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    class Source(models.TextChoices):
        INBOX = "inbox", _("inbox")
        LIVE_STREAM = "live_stream", _("live stream")
        ONLINE_STORE = "online_store", _("online store")
        BACK_OFFICE = "back_office", _("back office")
        IMPORT = "import", _("import")

    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    # Normalized by customers.normalize: lower-cased and trimmed; "" when unknown.
    email = models.CharField(_("email"), max_length=254, blank=True, default="")
    # E.164 (Taiwan is the default region for numbers typed without a country code); "" when unknown.
    phone = models.CharField(_("phone"), max_length=20, blank=True, default="")
    tier = models.ForeignKey(MemberTier, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers")
    tags = models.ManyToManyField(CustomerTag, blank=True, related_name="customers")
    notes = models.TextField(_("notes"), blank=True, default="")
    # Kept with every ledger entry under the customer's row lock; equals the sum of the entries.
    credit_balance = models.IntegerField(_("store credit"), default=0)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.INBOX)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="customer_unique_email"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="customer_unique_phone"),
            models.CheckConstraint(condition=Q(credit_balance__gte=0), name="customer_credit_not_negative"),
        ]
        indexes = [models.Index(fields=["name"], name="customer_name_idx")]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"


class ContactBinding(models.Model):
    """A chat contact (one per channel and platform user) belongs to this member.

    A member may have several contacts (their Messenger and LINE chats, several pages); a contact has at
    most one member. Unbinding deletes only this row.
    """

    contact = models.OneToOneField("inbox.Contact", on_delete=models.CASCADE, related_name="customer_binding")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="bindings")
    bound_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    bound_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.contact} -> {self.customer}"


class Address(models.Model):
    """A saved shipping address. A member keeps at most MAX_ADDRESSES current ones, one of them the default.

    Addresses pushed out by a merge are kept with `archived_at` set (the history record) rather than lost.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    recipient_name = models.CharField(_("recipient"), max_length=100)
    recipient_phone = models.CharField(_("recipient phone"), max_length=20, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True, default="")
    city = models.CharField(_("city"), max_length=50, blank=True, default="")
    district = models.CharField(_("district"), max_length=50, blank=True, default="")
    street = models.CharField(_("street address"), max_length=200)
    is_default = models.BooleanField(_("default"), default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True, archived_at__isnull=True), name="address_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_name}, {self.postal_code} {self.city}{self.district}{self.street}"

    @property
    def one_line(self) -> str:
        return f"{self.postal_code} {self.city}{self.district}{self.street}".strip()


class CreditEntry(models.Model):
    """One movement of store credit (TWD, integer): positive grants, negative spends or expiries.

    A grant may expire: `remaining` is what is left of it after spends (taken from the grants that expire
    first), and an expiry writes a negative entry for that remainder.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", _("grant")
        SPEND = "spend", _("spend")
        EXPIRY = "expiry", _("expiry")
        ADJUSTMENT = "adjustment", _("adjustment")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="credit_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.IntegerField(_("amount"))
    remaining = models.PositiveIntegerField(default=0)
    reason = models.CharField(_("reason"), max_length=200)
    # The order this entry belongs to, once orders exist (a plain id: orders may be archived separately).
    order_id = models.PositiveBigIntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="credit_customer_idx")]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.reason}"


class CustomerAuditEntry(models.Model):
    """Who changed what on a member, and when (bindings, identity edits, merges, credit)."""

    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("updated")
        BIND = "bind", _("chat bound")
        UNBIND = "unbind", _("chat unbound")
        MERGE = "merge", _("merged")
        ADDRESS = "address", _("address changed")
        CREDIT = "credit", _("credit adjusted")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="audit_entries")
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    # Set on a merge entry: the id of the member that was merged in (and no longer exists).
    merged_customer_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} #{self.customer_id}"
