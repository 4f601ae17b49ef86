"""Product reviews left by buyers; bad ones open cases (see the reviews work)."""

from django.db import models
from django.db.models import Q

from members.models import Member
from stores.models import Order, Product, Store


class Review(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="reviews")
    external_id = models.CharField(max_length=100)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=255, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(help_text="When the buyer wrote it.")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="review_unique_store_external_id"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"),
        ]
        indexes = [models.Index(fields=["store", "created_at"], name="review_store_created")]

    def __str__(self) -> str:
        return f"{self.rating}★ {self.title or self.external_id}"

    @property
    def is_bad(self) -> bool:
        return self.rating <= 2
