from django.apps import AppConfig


class VojConfig(AppConfig):
    name = "voj"
    verbose_name = "voj"
