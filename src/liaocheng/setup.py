"""Assembly of the demo installation across apps (like urls.py and api.py, this module may import
every app; the apps never import it). ``liaocheng demo`` calls ``prepare_demo``."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command

from liaocheng.core import services as core_services
from liaocheng.core.demo import DemoAccount, ensure_demo_accounts
from liaocheng.core.progress import console, progress_reporter
from liaocheng.economy.services import ensure_demo_economy
from liaocheng.egov.catalogue import ensure_demo_catalogue
from liaocheng.egov.demo_cases import ensure_demo_applications
from liaocheng.egov.disclosure_demo import ensure_demo_documents
from liaocheng.emergency.demo import ensure_demo_resources
from liaocheng.emergency.history import ensure_demo_incidents
from liaocheng.emergency.intake import load_incident_types
from liaocheng.exchange.services import sync_catalogue
from liaocheng.geo.layers import ensure_demo_layers
from liaocheng.registry.services import ensure_demo_registry
from liaocheng.urban.components import ensure_demo_components
from liaocheng.urban.demo import ensure_demo_cases
from liaocheng.urban.services import load_classes as load_urban_classes

Step = tuple[str, Callable[[], object]]


def _demo_registry() -> None:
    with progress_reporter() as report:
        ensure_demo_registry(residents=settings.DEMO_RESIDENTS, entities=settings.DEMO_ENTITIES, progress=report)


def _demo_cases() -> None:
    with progress_reporter() as report:
        ensure_demo_cases(settings.DEMO_CASES, progress=report)


def _demo_incidents() -> None:
    with progress_reporter() as report:
        ensure_demo_incidents(settings.DEMO_INCIDENTS, progress=report)


def _demo_applications() -> None:
    with progress_reporter() as report:
        ensure_demo_applications(settings.DEMO_APPLICATIONS, progress=report)


def prepare_demo() -> list[tuple[DemoAccount, str]]:
    """Migrate and load the city profile and every app's demo data. Idempotent."""
    steps: list[Step] = [
        ("数据库迁移 / migrating the database", lambda: call_command("migrate", interactive=False, verbosity=0)),
        ("角色 / roles", core_services.ensure_builtin_roles),
        ("部门 / departments", core_services.ensure_departments),
        ("城市基础地理数据 / city profile", lambda: call_command("load_city_profile")),
        ("空间图层 / spatial layers", ensure_demo_layers),
        ("宏观经济指标 / macro-economic indicators", ensure_demo_economy),
        ("人口与法人基础库样本 / population and legal-entity sample", _demo_registry),
        ("数据资源目录 / exchange catalogue", sync_catalogue),
        ("城市部件事件分类 / urban management classes", load_urban_classes),
        ("城市部件普查 / component census", lambda: ensure_demo_components(settings.DEMO_COMPONENTS)),
        ("城市管理历史案卷 / a year of urban cases", _demo_cases),
        ("突发事件分类与响应预案 / incident types and response plans", load_incident_types),
        ("应急救援力量与资源 / emergency units, stations and resources", ensure_demo_resources),
        ("一年的应急事件 / a year of emergency incidents", _demo_incidents),
        ("政务服务事项类型与目录 / service item types and catalogue", ensure_demo_catalogue),
        ("一年的政务服务办件 / a year of service hall cases", _demo_applications),
        ("政府信息公开文件 / government documents", lambda: ensure_demo_documents(settings.DEMO_DOCUMENTS)),
    ]
    for i, (title, step) in enumerate(steps, 1):
        console.print(f"[bold]{i}/{len(steps) + 1}[/bold] {title}")
        step()
    console.print(f"[bold]{len(steps) + 1}/{len(steps) + 1}[/bold] 演示账号 / demo accounts")
    return ensure_demo_accounts()
