"""Store scoping: the one helper every page, API endpoint, export and admin list goes through.

A user sees only the stores they hold a StoreMembership in; superusers see every store.
Roles: operator < manager. A view asks for the store by slug and gets 404 for a store the
user is not a member of (no hint that it exists) and 403 for a role they lack.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
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
    """Limit `queryset` to rows whose store (reached through the `via` lookup) the user may see."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return queryset
    return queryset.filter(**{f"{via}__in": stores_for(user, role)})


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


class StoreScopedAdminMixin:
    """Admin lists and store choices limited to the staff user's stores (superusers see all)."""

    store_lookup = "store"

    def get_queryset(self, request):
        return scope(super().get_queryset(request), request.user, via=self.store_lookup)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        from stores.models import Store

        if db_field.related_model is Store:
            kwargs["queryset"] = stores_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
