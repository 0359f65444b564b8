from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EconomyConfig(AppConfig):
    name = "liaocheng.economy"
    label = "economy"
    verbose_name = _("宏观经济基础库")
