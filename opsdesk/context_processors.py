"""Template context every page needs: the stores the user can see (for the store switcher)."""

from .tenancy import stores_for


def desk(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_stores": stores_for(user)}
