from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self):
        from . import back_links  # noqa: F401  (a review's and a case's pages: ways back from an order's page)
