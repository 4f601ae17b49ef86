"""A coupon is released when the order that redeemed it is cancelled or deleted (members.services.release_coupons,
Coupon.redeemed_order's on_delete). Coupons left redeemed before that rule, by an order since deleted (redeemed_at
kept, the link emptied) or cancelled, are released here so the member may use them again while they are valid."""

from django.db import migrations, models
from django.db.models import Q

import members.models


def release_left_redeemed(apps, schema_editor):
    Coupon = apps.get_model("members", "Coupon")
    Coupon.objects.filter(
        Q(redeemed_at__isnull=False, redeemed_order__isnull=True) | Q(redeemed_order__status="cancelled"),
    ).update(redeemed_at=None, redeemed_order=None)


class Migration(migrations.Migration):

    dependencies = [
        ('members', '0017_coupon_redeemed_order'),
        ('stores', '0012_order_discount_codes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='coupon',
            name='redeemed_order',
            field=models.ForeignKey(blank=True, help_text='The order that used the code.', null=True, on_delete=members.models.RELEASE_REDEMPTION, related_name='redeemed_coupons', to='stores.order'),
        ),
        # Which order redeemed a released coupon is not known any more: nothing to undo.
        migrations.RunPython(release_left_redeemed, migrations.RunPython.noop, elidable=True),
    ]
