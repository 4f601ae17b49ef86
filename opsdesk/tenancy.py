"""Store scoping: the one helper every page, API endpoint, export and admin list goes through.

A user sees only the stores they hold a StoreMembership in; superusers see every store.
Roles: operator < manager. A view asks for the store by slug and gets 404 for a store the
user is not a member of (no hint that it exists) and 403 for a role they lack.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

OPERATOR = "operator"
MANAGER = "manager"
ROLE_RANK = {OPERATOR: 1, MANAGER: 2}


def stores_for(user, role: str | None = None) -> QuerySet:
    """The stores `user` may see (or, with `role`, act in with at least that role)."""
    from stores.models import Store

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Store.objects.none()
    if user.is_superuser:
        return Store.objects.all()
    roles = [r for r, rank in ROLE_RANK.items() if rank >= ROLE_RANK[role]] if role else list(ROLE_RANK)
    return Store.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def scope(queryset: QuerySet, user, via: str = "store", role: str | None = None) -> QuerySet:
    """Limit `queryset` to rows whose store (reached through the `via` lookup) the user may see.

    The store ids go into the query as a list, not a subquery: knowing the stores, the planner walks a
    (store, time) index in order for a page of the newest rows instead of sorting all of a store's rows."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return queryset
    return queryset.filter(**{f"{via}__in": list(stores_for(user, role).values_list("pk", flat=True))})


def assignable_users(stores, keep: int | None = None) -> QuerySet:
    """The people work in `stores` can be given to: their members whose login is active. `keep` (the
    current owner's id) stays a choice after their login was deactivated, so the item still saves."""
    from django.contrib.auth import get_user_model

    who = Q(memberships__store__in=stores, is_active=True)
    if keep:
        who |= Q(pk=keep)
    return get_user_model().objects.filter(who).distinct().order_by("username")


def parse_pk(value) -> int | None:
    """A row id from a request, or None: ASCII digits only. str.isdigit() takes "²" (then int() fails: a
    500) and int() takes "١" or "1_0"; 18 digits stay inside a bigint."""
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def get_store(user, slug: str, role: str | None = None):
    """The store `slug` if the user is a member (404 otherwise); 403 if their role is too low."""
    store = stores_for(user).filter(slug=slug).first()
    if store is None:
        raise Http404("No such store.")
    if role and not has_role(user, store, role):
        raise PermissionDenied(f"This needs the {role} role in {store.name}.")
    return store


def has_role(user, store, role: str) -> bool:
    if user.is_superuser:
        return True
    return stores_for(user, role).filter(pk=store.pk).exists()


def get_scoped_object(queryset: QuerySet, user, via: str = "store", role: str | None = None, **lookup):
    """One object from a scoped queryset, or 404: another store's object looks like a missing one."""
    obj = scope(queryset, user, via=via).filter(**lookup).first()
    if obj is None:
        raise Http404("Not found.")
    if role:
        store = obj
        for part in via.split("__"):
            store = getattr(store, part)
        if not has_role(user, store, role):
            raise PermissionDenied(f"This needs the {role} role.")
    return obj


def store_path(model) -> str | None:
    """How rows of `model` reach the store that owns them: "pk" for Store itself, its store field, or one
    hop further ("product__store" for a listing version); None when no store owns them (users)."""
    from stores.models import Store

    if model is Store:
        return "pk"
    relations = [f for f in model._meta.concrete_fields if f.is_relation]
    for field in relations:
        if field.related_model is Store:
            return field.name
    for field in relations:
        for inner in field.related_model._meta.concrete_fields:
            if inner.is_relation and inner.related_model is Store:
                return f"{field.name}__{inner.name}"
    return None


def choices_for(queryset: QuerySet, user) -> QuerySet:
    """`queryset` limited to objects of the user's stores; shared ones (no store) stay, users are not limited."""
    lookup = store_path(queryset.model)
    if lookup is None or (user.is_superuser and user.is_active):
        return queryset
    if lookup == "pk":
        return queryset.filter(pk__in=stores_for(user))
    return queryset.filter(Q(**{f"{lookup}__in": stores_for(user)}) | Q(**{f"{lookup}__isnull": True}))


class StoreScopedChoicesMixin:
    """Admin forms (model admins and inlines) offer and accept only objects of the staff user's stores:
    a select, a raw id or a many-to-many box naming another store's product, order or listing is refused,
    so no one can link their store's rows to another store's (and read it through them)."""

    def _choices(self, db_field, request, kwargs) -> QuerySet:
        # Start from what the admin would offer (the related admin's ordering), then limit it.
        queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        if queryset is None:
            queryset = db_field.related_model._default_manager.using(kwargs.get("using")).all()
        return choices_for(queryset, request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs:
            kwargs["queryset"] = self._choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class StoreScopedAdminMixin(StoreScopedChoicesMixin):
    """Admin lists, their filters and every choice limited to the staff user's stores (superusers see all)."""

    store_lookup = "store"

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, via=self.store_lookup)

    def get_list_filter(self, request):
        # A related filter lists every row of its model (all stores' names); offer only those in the scoped list.
        from django.contrib.admin import RelatedOnlyFieldListFilter

        def scoped(item):
            if isinstance(item, str) and "__" not in item:
                field = self.model._meta.get_field(item)
                if field.is_relation and store_path(field.related_model) is not None:
                    return item, RelatedOnlyFieldListFilter
            return item

        return [scoped(item) for item in super().get_list_filter(request)]


class ReadOnlyAdminMixin:
    """An admin list of rows only the app writes (a record of what it did): seen, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
