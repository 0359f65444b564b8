from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EgovConfig(AppConfig):
    name = "liaocheng.egov"
    label = "egov"
    verbose_name = _("网上办事大厅")
