from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmergencyConfig(AppConfig):
    name = "liaocheng.emergency"
    label = "emergency"
    verbose_name = _("应急联动")

    def ready(self) -> None:
        # the receiver of urban-management hand-offs (ADR 0007: an explicit dependency, no signals)
        from liaocheng.urban import handoff

        from .receiver import UrbanCaseReceiver

        handoff.register_receiver(UrbanCaseReceiver())
