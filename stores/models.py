"""Stores and their facts: products, listing versions, orders (main), order lines (sub-orders),
payments, violations (penalty/deduction records), memberships and API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.signals import post_delete
from django.urls import reverse
from django.utils import timezone

from opsdesk import localtime
from opsdesk.images import OwnsPictureFile, discard_deleted_picture
from opsdesk.money import MoneyField

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai).")


class Platform(models.TextChoices):
    TAOBAO = "taobao", "Taobao"
    TMALL = "tmall", "Tmall"
    SHOPIFY = "shopify", "Shopify"
    AMAZON = "amazon", "Amazon"
    OLIST = "olist", "Olist"
    OTHER = "other", "Other"


class TrafficSource(models.TextChoices):
    ORGANIC_SEARCH = "organic_search", "Organic search"
    PAID_SEARCH = "paid_search", "Paid search / through train"
    RECOMMENDATION = "recommendation", "Recommendation"
    SOCIAL = "social", "Social / content"
    DIRECT = "direct", "Direct"
    CAMPAIGN = "campaign", "Campaign"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    OPERATOR = "operator", "Operator"
    MANAGER = "manager", "Manager"


# Longest shipping promise a store may make: its late orders must stay within `stores.shipping.LOOKBACK` (14 days)
# for a few days to be seen.
MAX_SHIP_WITHIN_HOURS = 240
SHIP_WITHIN_HOURS_VALIDATORS = [
    MinValueValidator(1, "Promise to ship within at least 1 hour."),
    MaxValueValidator(MAX_SHIP_WITHIN_HOURS, f"Promise to ship within at most {MAX_SHIP_WITHIN_HOURS} hours "
                                             f"({MAX_SHIP_WITHIN_HOURS // 24} days)."),
]


class Store(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.OTHER)
    country = models.CharField(
        max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166 country code such as CN.")]
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    currency = models.CharField(
        max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as CNY.")]
    )
    # Shared secret for platform webhooks (Shopify signs with it); set per store by an admin.
    webhook_secret = models.CharField(max_length=128, blank=True)
    ship_within_hours = models.PositiveIntegerField(
        default=48,
        db_default=48,  # in the table too: code from before the field (a rolling deploy) still inserts stores
        validators=SHIP_WITHIN_HOURS_VALIDATORS,
        verbose_name="ship within (hours)",
        help_text="The shipping promise: hours from payment by which a paid order must leave the warehouse "
                  "(Taobao's standard is 48). The desk and the morning email warn of orders past it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ship_within_hours__gte=1) & Q(ship_within_hours__lte=MAX_SHIP_WITHIN_HOURS),
                name="store_ship_within_hours_in_range"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("stores:detail", args=[self.slug])

    def clean(self):
        super().clean()
        self.country = (self.country or "").upper()
        self.currency = (self.currency or "").upper()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def today(self, now: datetime | None = None) -> date:
        """The store's local calendar day."""
        return localtime.local_today(self.zone, now)

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """UTC-aware start/end of the store's local `day` (23 or 25 hours on DST days)."""
        return localtime.day_bounds(day, self.zone)


class StoreMembership(models.Model):
    """A user's place in a store: their role, and for managers the morning email's zone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OPERATOR)
    email_timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="Zone for the 08:00 morning email; blank means the store's zone.",
    )
    morning_email = models.BooleanField(default=True, help_text="Managers: receive the morning email.")
    ad_alert_email = models.BooleanField(
        default=True, help_text="Operators and managers: receive the hourly email of new ad pacing alerts.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "store"], name="membership_unique_user_store")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.store} ({self.role})"

    def save(self, *args, **kwargs):
        if self._state.adding and not self.email_timezone:
            self.email_timezone = self.users_own_zone()
        super().save(*args, **kwargs)

    def users_own_zone(self) -> str:
        """The zone every other store of the user's email uses, if one ("all my stores" sets it), else blank:
        a store added later reaches a Sydney manager at Sydney's 08:00 like the others, not the store's."""
        zones = set(StoreMembership.objects.filter(user_id=self.user_id).exclude(store_id=self.store_id)
                    .values_list("email_timezone", flat=True))
        return zones.pop() if len(zones) == 1 else ""

    @property
    def email_zone(self) -> ZoneInfo:
        return ZoneInfo(self.email_timezone or self.store.timezone)

    # The emails a signed link can turn off, each by its own salt: a morning-email link cannot stop the ad alerts.
    # (The morning email's salt predates this table; links already sent keep working.)
    OPT_OUT_SALTS = {"morning_email": "opsdesk.morning-email.opt-out",
                     "ad_alert_email": "opsdesk.ad-alert-email.opt-out"}

    def opt_out_token(self, email: str) -> str:
        """A signed token naming this membership and one of its emails (`OPT_OUT_SALTS`): the credential of an
        email's one-click "stop these emails" link, which needs no login."""
        return signing.dumps(self.pk, salt=self.OPT_OUT_SALTS[email])

    @classmethod
    def from_opt_out_token(cls, token: str, email: str) -> StoreMembership | None:
        """The membership `token` was made for to stop `email`, or None for a forged, mangled or foreign one."""
        try:
            pk = signing.loads(token, salt=cls.OPT_OUT_SALTS[email])
        except signing.BadSignature:
            return None
        return cls.objects.select_related("store", "user").filter(pk=pk).first()

    def opt_out(self, email: str) -> None:
        """Stop sending `email` (a field of OPT_OUT_SALTS) to this membership; the user's other stores keep it."""
        if getattr(self, email):
            setattr(self, email, False)
            self.save(update_fields=[email])


class ApiKeyQuerySet(models.QuerySet):
    def authenticate(self, raw_key: str) -> ApiKey | None:
        """The active key matching `raw_key`, or None."""
        if not raw_key:
            return None
        return self.select_related("store").filter(key_hash=ApiKey.hash(raw_key), revoked_at=None).first()


class ApiKey(models.Model):
    """A store's key for the ingest API. Only a hash is kept; the key is shown once."""

    PREFIX = "opk_"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, default="default")
    key_prefix = models.CharField(max_length=16, help_text="First characters, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.store.slug}:{self.key_prefix}…"

    @staticmethod
    def hash(raw_key: str) -> str:
        # Keys are 32 random bytes, so a fast hash is enough (nothing to brute-force).
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, store: Store, name: str = "default") -> tuple[ApiKey, str]:
        """Create a key and return it with the raw secret, which is not stored anywhere."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(store=store, name=name, key_prefix=raw[:10], key_hash=cls.hash(raw))
        return key, raw

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class Product(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    sku = models.CharField(max_length=100, help_text="The platform's product id or SKU.")
    title = models.CharField(max_length=255)
    category = models.CharField(max_length=100, blank=True)
    price = MoneyField(validators=[MinValueValidator(0)])
    main_image_url = models.URLField(max_length=500, blank=True)
    detail_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="product_unique_store_sku"),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("stores:product", args=[self.store.slug, self.pk])

    def current_listing(self) -> ListingVersion | None:
        return self.listing_versions.order_by("-started_at").first()


class ListingVersion(OwnsPictureFile, models.Model):
    """One version of a product's listing (title, main picture, detail page), live from started_at. Versions
    often share a picture (a new title keeps it); a stored picture no version points at any more (changed in
    the admin, or its versions deleted) is deleted with its thumbnail (OwnsPictureFile)."""

    picture_field = "main_image"
    picture_folder = "listings"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="listing_versions")
    title = models.CharField(max_length=255)
    main_image = models.CharField(max_length=500, blank=True, help_text="Image URL or media path.")
    detail_page = models.TextField(blank=True, help_text="Detail page text or URL.")
    note = models.CharField(max_length=255, blank=True, help_text="What changed and why.")
    started_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["product", "started_at"], name="listing_unique_product_start")]

    def __str__(self) -> str:
        return f"{self.product} @ {self.started_at:%Y-%m-%d %H:%M}"


post_delete.connect(discard_deleted_picture, sender=ListingVersion)


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


PAID_STATUSES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.REFUNDED)


class OrderQuerySet(models.QuerySet):
    def paid(self):
        """Orders that were paid (a later refund does not un-pay them; refunds are counted apart)."""
        return self.filter(paid_at__isnull=False)

    def paid_between(self, start: datetime, end: datetime):
        return self.paid().filter(paid_at__gte=start, paid_at__lt=end)


class Order(models.Model):
    """A main order (order-level payment); its lines are the sub-orders."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=100)
    name = models.CharField(
        max_length=100, blank=True, default="",
        db_default="",  # in the table too: code from before the field (a rolling deploy) still inserts orders
        help_text="What the shop and its buyers call the order (Shopify's #1042); blank for channels without one.")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True, help_text="When the order left the warehouse.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    total = MoneyField(help_text="Amount the buyer paid for the main order, in the store's currency.")
    refund_amount = MoneyField(default=0)
    traffic_source = models.CharField(max_length=20, choices=TrafficSource.choices, default=TrafficSource.OTHER)
    buyer_ref = models.CharField(max_length=100, blank=True, help_text="Platform customer id.")
    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_phone = models.CharField(max_length=32, blank=True)
    buyer_email = models.EmailField(blank=True)
    marketing_consent = models.BooleanField(default=False, help_text="Buyer agreed to marketing texts.")
    discount_codes = models.JSONField(
        default=list, blank=True,
        db_default=models.Value([], models.JSONField()),  # code from before the field (a rolling deploy) still inserts
        help_text="The discount codes the buyer used, as the channel gave them (a member's coupon among them is "
                  "marked redeemed: members.services.redeem_coupons).")
    platform_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The platform's last change of the order that opsdesk recorded (Shopify's "
                                         "updated_at); an older notification arriving later is ignored.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="order_unique_store_external_id"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(refund_amount__gte=0) & Q(refund_amount__lte=models.F("total")),
                name="order_refund_within_total",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "paid_at"], name="order_store_paid_at"),
            models.Index(fields=["store", "placed_at"], name="order_store_placed_at"),
        ]

    def __str__(self) -> str:
        return f"{self.store.slug}#{self.external_id}"

    def get_absolute_url(self) -> str:
        return reverse("stores:order", args=[self.store.slug, self.pk])

    @property
    def display_name(self) -> str:
        """The order as a person names it: its name (#1042) when the channel gave one, else #<its id>."""
        return self.name or f"#{self.external_id}"

    @property
    def number(self) -> str:
        """The order's number in a text to the buyer: its name, else its id (as texts always wrote it)."""
        return self.name or self.external_id


class OrderLine(models.Model):
    """A sub-order: one product line of a main order (line-level payment)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="lines")
    sku = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField(default=1)
    unit_price = MoneyField()
    amount = MoneyField(help_text="Line total paid: unit price × quantity less line discounts.")
    freight = MoneyField(default=0)
    # Defaults in the table too: code from before these fields (a rolling deploy) still inserts lines.
    external_id = models.CharField(
        max_length=100, blank=True, default="", db_default="",
        help_text="The platform's id of the line (Shopify's line item id), which its refunds name.")
    refunded_quantity = models.PositiveIntegerField(default=0, db_default=0)
    refund_amount = MoneyField(default=0, db_default=0, help_text="Refunded of this line, on the basis of its "
                                                                  "amount (item price less discount).")

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_order_line_no"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(amount__gte=0) & Q(unit_price__gte=0), name="orderline_money_ok"),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=models.F("quantity")) & Q(refund_amount__gte=0)
                & Q(refund_amount__lte=models.F("amount")),
                name="orderline_refund_within_line",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} line {self.line_no}"


class PaymentType(models.TextChoices):
    CREDIT_CARD = "credit_card", "Credit card"
    DEBIT_CARD = "debit_card", "Debit card"
    BOLETO = "boleto", "Boleto"
    VOUCHER = "voucher", "Voucher"
    ALIPAY = "alipay", "Alipay"
    WECHAT = "wechat", "WeChat Pay"
    PAYPAL = "paypal", "PayPal"
    OTHER = "other", "Other"


class Payment(models.Model):
    """One payment towards an order; an order may be paid in several (e.g. card + voucher)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="payments")
    sequence = models.PositiveIntegerField(default=1)
    type = models.CharField(max_length=20, choices=PaymentType.choices)
    amount = MoneyField()
    installments = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="payment_unique_order_sequence"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order} {self.type} {self.amount}"


class ShopifyRefund(models.Model):
    """A refund Shopify reported (refunds/create, or an order's `refunds[]`), kept by its id: the order's refund
    amount is never below the sum of its refunds, and the same refund reported twice counts once."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shopify_refunds")
    external_id = models.CharField(max_length=100, help_text="Shopify's refund id.")
    amount = MoneyField(help_text="Money returned: the refund's successful refund transactions.")
    refunded_at = models.DateTimeField()

    class Meta:
        ordering = ["order", "refunded_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "external_id"], name="shopifyrefund_unique_order_external_id"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="shopifyrefund_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.order} refund {self.external_id}"


class DeletedOrder(models.Model):
    """An order the platform reported deleted (Shopify's orders/delete), kept by its id after the order itself is
    gone: webhooks arrive in any order, and a notification of it sent before the deletion must not record it
    again."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=100)
    deleted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="deletedorder_unique_store_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.store.slug}#{self.external_id} (deleted)"


class ViolationStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPEALED = "appealed", "Appealed"
    RESOLVED = "resolved", "Resolved"


class ViolationQuerySet(models.QuerySet):
    def open(self) -> ViolationQuerySet:
        """Penalties nobody has dealt with yet (not appealed, not resolved): what the store page, the desk and
        the morning email call open."""
        return self.filter(status=ViolationStatus.OPEN)


class Violation(models.Model):
    """A platform penalty/deduction record: points and money taken for breaking a rule."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="violations")
    external_id = models.CharField(max_length=100, help_text="The platform's record id.")
    kind = models.CharField(max_length=100, help_text="e.g. late shipment, false advertising.")
    description = models.TextField(blank=True)
    points = models.PositiveIntegerField(default=0)
    amount = MoneyField(default=0, help_text="Money deducted.")
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ViolationStatus.choices, default=ViolationStatus.OPEN)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # Who last changed the status, and when: a person on the list page or in the admin (`set_status`), or an
    # import that changed it (dated, no name); an import that leaves the status leaves these too.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ViolationQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="violation_unique_store_external_id"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="violation_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.points} pts)"

    def set_status(self, status: str, by: AbstractBaseUser | None = None) -> bool:
        """Mark the penalty open, appealed or resolved by user `by`, recording who and when; False when it
        already was (nothing is written, so the last real change keeps its name and time)."""
        if status not in ViolationStatus.values:
            raise ValueError(f"{status!r} is not one of {', '.join(ViolationStatus.values)}")
        now = timezone.now()
        # Conditional on the row's current status, so two people saving the same status at once record one change.
        changed = (
            Violation.objects.filter(pk=self.pk)
            .exclude(status=status)
            .update(status=status, status_changed_at=now, status_changed_by=by)
        )
        if changed:
            self.status, self.status_changed_at, self.status_changed_by = status, now, by
        else:
            self.refresh_from_db(fields=["status", "status_changed_at", "status_changed_by"])
        return bool(changed)


def _import_upload_path(job: ImportJob, filename: str) -> str:
    # Never the operator's file name in the path: it is kept in `name`, shown on the status page.
    return f"imports/{job.store_id}/{secrets.token_hex(16)}.csv"


class ImportJob(models.Model):
    """An uploaded CSV waiting for, going through or done with its import (`stores.tasks.run_import`).

    The upload page stores the file and queues the job; a worker imports it with the same importer
    `manage.py import_csv` uses (all or nothing, every bad row named) and records the summary or the
    errors here for the status page. The file is deleted once the job is done or failed (it may hold
    buyers' phone numbers); the job row stays as the record of what was imported."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Nothing was imported"

    # A file whose every row is wrong could name hundreds of thousands of problems: the job keeps the
    # first ones (the page shows IMPORT_ERRORS_SHOWN of them) and the count of all.
    ERRORS_KEPT = 10_000

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    kind = models.CharField(max_length=40)
    name = models.CharField(max_length=255, help_text="The uploaded file's name.")
    size = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to=_import_upload_path, blank=True, max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    summary = models.TextField(blank=True, help_text="What the import did, as the command prints it.")
    errors = models.JSONField(default=list, blank=True, help_text="[row, problem] pairs, row 1 being the header.")
    error_count = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="Why a job failed when no row is to blame.")
    options = models.JSONField(default=dict, blank=True,
                               help_text="The upload form's choices, passed to the importer (format, open cases).")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["store", "-created_at"], name="importjob_store_recent"),
                   models.Index(fields=["status", "created_at"], name="importjob_status_age")]

    def __str__(self) -> str:
        return f"{self.kind} import of {self.name} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("stores:import_job", args=[self.store.slug, self.pk])

    # Kinds uploaded on their own app's page rather than the store's import page: "Import another file" goes back.
    UPLOAD_PAGES = {"ad_report": "campaigns:ad_import", "reviews": "reviews:import"}

    def upload_url(self) -> str:
        name = self.UPLOAD_PAGES.get(self.kind)
        if name == "campaigns:ad_import":  # one page for all the user's stores: the store is chosen in the form
            return f"{reverse(name)}?store={self.store.slug}"
        return reverse(name or "stores:import", args=[self.store.slug])

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def numbered_by_item(self) -> bool:
        """A JSON file's problems are numbered by its items (1 the first), not by lines under a header."""
        return self.options.get("format") == "json" or self.name.lower().endswith(".json")
