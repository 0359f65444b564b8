from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UrbanConfig(AppConfig):
    name = "liaocheng.urban"
    label = "urban"
    verbose_name = _("网格化城市管理")
