"""Choosing products by typing them: a store may sell thousands, too many for a <select> on every form.

The operator types a product's SKU or title (several: one a line). The page carries no product list;
with JavaScript, desk.js suggests matches from `suggestions` (the product_search endpoint) as they type.
Only the products of the form's store, or of the user's stores, are found."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.urls import reverse_lazy

from opsdesk.tenancy import parse_pk, scope
from stores.models import Product, Store

SEPARATOR = " · "  # a suggestion reads "SKU · title"; typed back, the part before it is the SKU
SUGGESTIONS = 20


def label(product: Product) -> str:
    return f"{product.sku}{SEPARATOR}{product.title}"


def suggestions(user, text: str, store_id: str = "") -> list[dict]:
    """Up to SUGGESTIONS of the user's products whose SKU starts with `text` or whose title holds it."""
    text = text.strip()
    if not text:
        return []
    products = scope(Product.objects.select_related("store"), user)
    if (store := parse_pk(store_id)) is not None:
        products = products.filter(store_id=store)
    products = products.filter(Q(sku__istartswith=text) | Q(title__icontains=text)).order_by("title", "pk")
    return [{"value": label(p), "store": p.store.name} for p in products[:SUGGESTIONS]]


def form_store(form: forms.ModelForm, stores: QuerySet) -> Store | None:
    """The store a form is for: its object's, else the one posted if it is one of `stores`."""
    if form.instance.pk:
        return form.instance.store
    posted = form.data.get(form.add_prefix("store"), "") if form.is_bound else ""
    return stores.filter(pk=pk).first() if (pk := parse_pk(posted)) is not None else None


class ProductField(forms.Field):
    """A product typed in by SKU or title, or with `multiple` several, one a line. Set `queryset` (and
    `where`, its name in error messages) with limit_to(); a product outside it is unknown."""

    def __init__(self, *, multiple: bool = False, **kwargs):
        self.multiple = multiple
        attrs = {"data-product-search": reverse_lazy("campaigns:product_search"), "autocomplete": "off",
                 "placeholder": "SKU or title, one a line" if multiple else "SKU or title"}
        kwargs.setdefault("widget", forms.Textarea(attrs={**attrs, "rows": 3}) if multiple else forms.TextInput(attrs))
        super().__init__(**kwargs)
        self.queryset, self.where = Product.objects.none(), "your stores"

    def limit_to(self, stores: QuerySet, store: Store | None) -> None:
        """Find products of `store` once the form's store is known, else of any of `stores`."""
        if store is not None:
            self.queryset, self.where = Product.objects.filter(store=store), store.name
        else:
            self.queryset, self.where = Product.objects.filter(store__in=stores), "your stores"

    def prepare_value(self, value):
        if isinstance(value, str):  # as typed: kept when the form comes back with an error
            return value
        if value is None:
            return ""
        items = list(value) if isinstance(value, (list, tuple, QuerySet)) else [value]
        ids = [p for p in items if not isinstance(p, Product)]
        products = [p for p in items if isinstance(p, Product)] + list(Product.objects.filter(pk__in=ids))
        return "\n".join(label(p) for p in products)

    def to_python(self, value) -> list[str]:
        lines = (value or "").splitlines() if self.multiple else [value or ""]
        return [line.strip() for line in lines if line.strip()]

    def clean(self, value):
        typed = self.to_python(value)
        self.validate(typed)
        found, errors = [], []
        for text in typed:
            try:
                product = self._find(text)
            except forms.ValidationError as error:
                errors.append(error)
            else:
                if product not in found:
                    found.append(product)
        if errors:
            raise forms.ValidationError(errors)
        return found if self.multiple else (found[0] if found else None)

    def _find(self, text: str) -> Product:
        """The product `text` names: by SKU (also as "SKU · title"), else by its title in any case."""
        matches = list(self.queryset.filter(Q(sku=text) | Q(sku=text.split(SEPARATOR, 1)[0]) | Q(title__iexact=text))
                       .order_by("pk")[:10])
        by_sku = [p for p in matches if p.sku in (text, text.split(SEPARATOR, 1)[0])]
        if by_sku:
            return by_sku[0]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise forms.ValidationError(f"Several products of {self.where} are called “{text}”: type the SKU.")
        raise forms.ValidationError(f"No product of {self.where} has the SKU or title “{text}”.")

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        try:
            now = self.clean(data)
        except forms.ValidationError:
            return True
        now = {p.pk for p in (now if self.multiple else [now] if now else [])}
        before = initial if isinstance(initial, (list, tuple, QuerySet)) else [initial] if initial else []
        return now != {p.pk if isinstance(p, Product) else int(p) for p in before}
