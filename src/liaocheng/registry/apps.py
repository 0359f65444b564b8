from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "liaocheng.registry"
    label = "registry"
    verbose_name = _("基础数据库")

    def ready(self) -> None:
        from .providers import register_all

        register_all()
