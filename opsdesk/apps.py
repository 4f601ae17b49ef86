from django.apps import AppConfig


class OpsdeskConfig(AppConfig):
    name = "opsdesk"
    verbose_name = "opsdesk"
