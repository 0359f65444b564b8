from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EgovConfig(AppConfig):
    name = "liaocheng.egov"
    label = "egov"
    verbose_name = _("网上办事大厅")

    def ready(self) -> None:
        from . import credit

        # the credit module's published interface: a stub receiver until the credit module registers its own
        if credit.current_receiver() is None:
            credit.register_receiver(credit.StubCreditReceiver())
