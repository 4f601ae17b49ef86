from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Members"

    def ready(self):
        from . import back_links  # noqa: F401  (a member's and a campaign's pages: ways back from an order's page)
