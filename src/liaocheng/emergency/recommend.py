"""Unit recommendation: which available units to send to an incident, nearest by travel-time estimate.

1. The response plan (``ResponsePlan``) gives the unit types and counts: the most specific plan for the
   incident's type and severity wins, walking up the GB/T 35561 code tree (12G04 → 12G00 → 12000 → 10000;
   at each code the plan of the incident's level before the plan for any level). Units already on the
   incident (open assignments) count against the plan.
2. For each type still needed, the nearest *available* units by estimated travel time from their live
   positions (units of every county: cross-county support is allowed, only the ETA counts):

   ETA = turnout time (by unit type) + great-circle distance × ``DETOUR_FACTOR`` ÷ speed (by unit type and
   area: urban when the incident lies in an urban unit grid, rural otherwise).

   Figures (``SPEED_KMH``, ``TURNOUT_SECONDS``): road detour factor 1.3 (typical circuity of a road network
   against the straight line); light vehicles (police, traffic police, ambulance, command) 40 km/h urban,
   60 km/h rural; fire engines, foam tenders and rescue engines 35 / 55; aerial ladders and hazmat vehicles
   30 / 50; utility crews and rescue teams 30 / 50. Turnout (dispatch → rolling): police 30 s, traffic
   police 45 s, ambulance 60 s and fire apparatus 80 s (NFPA 1710), command 60 s, rescue teams 180 s,
   utility crews 300 s. Coordinates are GCJ-02; its offset from WGS84 (a few hundred metres, nearly
   uniform at this scale) does not matter for distances between two GCJ-02 points.

Speed: a process-wide ``UnitIndex`` keeps the positions of all units as numpy arrays per type (rebuilt
when units are added or removed, when a service changes a unit, or after ``INDEX_TTL_SECONDS`` for
positions); availability is always read from the database at recommendation time (the ids of the busy
units of the needed types), and the chosen units are re-read by id (fresh position and status) before
they are returned. Distances are one vectorised haversine per needed type.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from django.db import connection
from numpy.typing import NDArray

from liaocheng.core.models import Department
from liaocheng.geo.models import Grid

from .models import Assignment, Incident, IncidentType, ResponsePlan, Station, Unit, UnitStatus, UnitType

EARTH_RADIUS_M = 6_371_008.8
DETOUR_FACTOR = 1.3
ALTERNATIVES = 3  # further candidates per need, offered unticked
INDEX_TTL_SECONDS = 5.0

_LIGHT = (40.0, 60.0)
_FIRE = (35.0, 55.0)
_HEAVY = (30.0, 50.0)
_CREW = (30.0, 50.0)
# unit type -> (urban km/h, rural km/h)
SPEED_KMH: dict[str, tuple[float, float]] = {
    UnitType.POLICE_CAR: _LIGHT, UnitType.TRAFFIC_POLICE: _LIGHT, UnitType.AMBULANCE: _LIGHT,
    UnitType.COMMAND: _LIGHT, UnitType.FIRE_ENGINE: _FIRE, UnitType.FOAM_TENDER: _FIRE,
    UnitType.RESCUE_ENGINE: _FIRE, UnitType.AERIAL_LADDER: _HEAVY, UnitType.HAZMAT: _HEAVY,
    UnitType.WATER_CREW: _CREW, UnitType.POWER_CREW: _CREW, UnitType.GAS_CREW: _CREW, UnitType.RESCUE_TEAM: _CREW,
}
TURNOUT_SECONDS: dict[str, int] = {
    UnitType.POLICE_CAR: 30, UnitType.TRAFFIC_POLICE: 45, UnitType.AMBULANCE: 60, UnitType.COMMAND: 60,
    UnitType.FIRE_ENGINE: 80, UnitType.FOAM_TENDER: 80, UnitType.RESCUE_ENGINE: 80, UnitType.AERIAL_LADDER: 80,
    UnitType.HAZMAT: 80, UnitType.RESCUE_TEAM: 180, UnitType.WATER_CREW: 300, UnitType.POWER_CREW: 300,
    UnitType.GAS_CREW: 300,
}
URBAN, RURAL = "urban", "rural"
# tables of the raw hot-path queries (model metadata, never user input)
_UNIT, _ASSIGNMENT = Unit._meta.db_table, Assignment._meta.db_table
_PLAN, _TYPE = ResponsePlan._meta.db_table, IncidentType._meta.db_table
_DEPT, _STATION = Department._meta.db_table, Station._meta.db_table

FloatArray = NDArray[np.float64]


# --- response plans --------------------------------------------------------------------------------------

def plan_chain(code: str) -> list[str]:
    """The codes whose plans apply to ``code``, most specific first: 12G04 → 12G00 → 12000 → 10000."""
    code = (code or "").strip().upper()
    chain = [code]
    if len(code) == 5:
        chain += [code[:3] + "00", code[:2] + "000", "10000"]
    seen: list[str] = []
    for c in chain:
        if c and c not in seen:
            seen.append(c)
    return seen


def _best_plan(plans: dict[tuple[str, int | None], Any], code: str, severity: int | None) -> Any:
    for c in plan_chain(code):
        for level in (severity, None):
            plan = plans.get((c, level))
            if plan is not None:
                return plan
    return None


def _type_code(incident: Incident) -> str:
    if Incident.incident_type.is_cached(incident):
        return str(incident.incident_type.code)
    return str(IncidentType.objects.filter(pk=incident.incident_type_id).values_list("code", flat=True).first() or "")


def plans_for(pairs: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int | None], ResponsePlan | None]:
    """The plan for each (type code, severity) pair, in one query."""
    wanted = list(dict.fromkeys(pairs))
    codes = {c for code, _ in wanted for c in plan_chain(code)}
    plans = {(p.incident_type.code, p.severity): p
             for p in ResponsePlan.objects.filter(incident_type__code__in=codes).select_related("incident_type")}
    return {(code, sev): _best_plan(plans, code, sev) for code, sev in wanted}


def response_plan_for(incident_type: IncidentType | str, severity: int | None) -> ResponsePlan | None:
    """The most specific plan for a type (or its code) at a severity level, walking up the code tree."""
    code = incident_type if isinstance(incident_type, str) else incident_type.code
    return plans_for([(code, severity)])[(code, severity)]


def plan_needs(plan: ResponsePlan | PlanInfo | None) -> dict[str, int]:
    """The plan's needs, keeping known unit types with a positive whole count, in ``UnitType`` order (a
    JSON object's key order is not kept by PostgreSQL's jsonb)."""
    raw = plan.needs if plan is not None else None
    if isinstance(raw, str):  # raw SQL on SQLite returns the JSON text
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dict):
        return {}
    needs: dict[str, int] = {}
    for unit_type in UnitType.values:
        count = raw.get(unit_type)
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            needs[unit_type] = count
    return needs


class PlanInfo(NamedTuple):
    """The parts of a ``ResponsePlan`` the recommendation uses (read by the raw hot-path query)."""

    pk: int
    code: str
    severity: int | None
    needs: Any


def _plan_info(incident: Incident) -> PlanInfo | None:
    """``response_plan_for`` in one raw query (the hot path: no ORM query compilation)."""
    code = _type_code(incident)
    chain = plan_chain(code)
    marks = ", ".join(["%s"] * len(chain))
    with connection.cursor() as cur:
        cur.execute(f"SELECT p.id, t.code, p.severity, p.needs FROM {_PLAN} p JOIN {_TYPE} t "  # noqa: S608
                    f"ON t.id = p.incident_type_id WHERE t.code IN ({marks})", chain)
        plans = {(row[1], row[2]): PlanInfo(*row) for row in cur.fetchall()}
    return _best_plan(plans, code, incident.severity)


# --- travel-time estimate ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=65_536)
def area_of_grid(grid_code: str) -> str:
    """``urban`` or ``rural`` by the unit grid's size class (unknown grids count as urban: slower, cautious)."""
    size = Grid.objects.filter(code=grid_code).values_list("size_class", flat=True).first() if grid_code else None
    return RURAL if size == RURAL else URBAN


def haversine_m(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> Any:
    """Great-circle distance in metres (degrees in; scalars or numpy arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def travel_seconds(unit_type: str, distance_m: Any, area: str) -> Any:
    """Turnout plus driving time over ``distance_m`` great-circle metres (scalar or array)."""
    urban_kmh, rural_kmh = SPEED_KMH.get(unit_type, _LIGHT)
    speed_ms = (urban_kmh if area == URBAN else rural_kmh) / 3.6
    return TURNOUT_SECONDS.get(unit_type, 60) + np.asarray(distance_m) * DETOUR_FACTOR / speed_ms


def eta_seconds(unit_type: str, lon: float, lat: float, incident: Incident) -> int:
    distance = float(haversine_m(lon, lat, incident.lon, incident.lat))
    return round(float(travel_seconds(unit_type, distance, area_of_grid(incident.grid_code))))


# --- the in-memory index ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _TypeArrays:
    ids: NDArray[np.int64]
    lat: FloatArray  # radians
    lon: FloatArray  # radians
    coslat: FloatArray


_EMPTY = _TypeArrays(np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0))


class UnitIndex:
    """Positions of all units as numpy arrays per unit type (one process-wide instance, thread-safe).

    Rebuilt when the number of units or the highest id changes (one cheap aggregate per use), when a
    service of this process changes a unit (``invalidate``), and at most ``ttl`` seconds after the last
    build (positions move). Availability is not kept here: it is read at recommendation time."""

    def __init__(self, ttl: float = INDEX_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._by_type: dict[str, _TypeArrays] = {}
        self._fingerprint: tuple[int, int] | None = None
        self._built = 0.0
        self._generation = 0
        self._built_generation = -1
        self.builds = 0

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1

    def _current_fingerprint(self) -> tuple[int, int]:
        with connection.cursor() as cur:
            cur.execute(f"SELECT COUNT(*), MAX(id) FROM {_UNIT}")  # noqa: S608
            n, top = cur.fetchone()
        return int(n or 0), int(top or 0)

    def arrays(self) -> dict[str, _TypeArrays]:
        fingerprint = self._current_fingerprint()
        with self._lock:
            now = time.monotonic()
            if (fingerprint == self._fingerprint and self._built_generation == self._generation
                    and now - self._built < self.ttl):
                return self._by_type
            generation = self._generation
            with connection.cursor() as cur:
                cur.execute(f"SELECT id, unit_type, lon, lat FROM {_UNIT}")  # noqa: S608
                rows = cur.fetchall()
            by_type: dict[str, _TypeArrays] = {}
            if rows:
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                types = np.array([r[1] for r in rows])
                lon = np.radians(np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows)))
                lat = np.radians(np.fromiter((r[3] for r in rows), dtype=np.float64, count=len(rows)))
                for unit_type in np.unique(types):
                    sel = types == unit_type
                    by_type[str(unit_type)] = _TypeArrays(ids[sel], lat[sel], lon[sel], np.cos(lat[sel]))
            self._by_type, self._fingerprint, self._built = by_type, fingerprint, now
            self._built_generation = generation
            self.builds += 1
            return by_type


_index = UnitIndex()


def get_index() -> UnitIndex:
    return _index


def invalidate_index() -> None:
    """Call after changing units outside the dispatch services (bulk loads, tests writing rows directly)."""
    _index.invalidate()


# --- recommendation -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    unit_id: int
    call_sign: str
    unit_type: str
    department: str
    station: str
    county_code: str
    lon: float
    lat: float
    distance_m: int
    eta_seconds: int


@dataclass(frozen=True)
class Need:
    unit_type: str
    needed: int  # by the plan
    assigned: int  # units of the type already on the incident
    chosen: list[Candidate]
    alternatives: list[Candidate]

    @property
    def missing(self) -> int:
        return max(0, self.needed - self.assigned)

    @property
    def shortfall(self) -> int:
        """How many of the missing units no available unit can cover."""
        return max(0, self.missing - len(self.chosen))

    @property
    def label(self) -> str:
        return str(UnitType(self.unit_type).label) if self.unit_type in UnitType.values else self.unit_type


@dataclass(frozen=True)
class Recommendation:
    incident_id: int
    plan_id: int | None
    plan_code: str  # the code whose plan applied ("" without a plan)
    plan_severity: int | None
    area: str
    needs: list[Need] = field(default_factory=list)

    @property
    def recommended_ids(self) -> list[int]:
        return [c.unit_id for n in self.needs for c in n.chosen]

    @property
    def shortfall(self) -> dict[str, int]:
        return {n.unit_type: n.shortfall for n in self.needs if n.shortfall}


def _nearest(arrays: _TypeArrays, busy: NDArray[np.int64], lon: float, lat: float, k: int
             ) -> tuple[NDArray[np.int64], FloatArray]:
    """Ids and great-circle metres of the ``k`` nearest units of ``arrays`` not in ``busy`` (nearest first,
    ties by id: units of one station share a position)."""
    if arrays.ids.size == 0 or k <= 0:
        return np.empty(0, np.int64), np.empty(0)
    if busy.size:
        free = ~np.isin(arrays.ids, busy)
        ids, ulat, ulon, ucos = arrays.ids[free], arrays.lat[free], arrays.lon[free], arrays.coslat[free]
    else:
        ids, ulat, ulon, ucos = arrays.ids, arrays.lat, arrays.lon, arrays.coslat
    if ids.size == 0:
        return ids, np.empty(0)
    plat, plon = np.radians(lat), np.radians(lon)
    h = np.sin((ulat - plat) / 2) ** 2 + np.cos(plat) * ucos * np.sin((ulon - plon) / 2) ** 2
    dist = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    if k < ids.size:  # everything up to the k-th distance (all ties included), then exact order
        kth = np.partition(dist, k - 1)[k - 1]
        near = np.flatnonzero(dist <= kth)
        order = near[np.lexsort((ids[near], dist[near]))][:k]
    else:
        order = np.lexsort((ids, dist))
    return ids[order], dist[order]


def _candidates(ids: Sequence[int], incident: Incident, area: str) -> dict[int, tuple[float, Candidate]]:
    """Fresh rows of ``ids`` that are still available, as (exact ETA, candidate) from the row's position."""
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(f"SELECT u.id, u.call_sign, u.unit_type, d.name, s.name, u.county_code, u.lon, u.lat "  # noqa: S608
                    f"FROM {_UNIT} u JOIN {_DEPT} d ON d.id = u.department_id "
                    f"LEFT JOIN {_STATION} s ON s.id = u.station_id WHERE u.status = %s AND u.id IN ({marks})",
                    [UnitStatus.AVAILABLE.value, *ids])
        rows = cur.fetchall()
    out: dict[int, tuple[float, Candidate]] = {}
    if not rows:
        return out
    dist = haversine_m(np.array([r[6] for r in rows]), np.array([r[7] for r in rows]), incident.lon, incident.lat)
    for r, d in zip(rows, dist, strict=True):
        eta = float(travel_seconds(r[2], float(d), area))
        out[r[0]] = (eta, Candidate(unit_id=r[0], call_sign=r[1], unit_type=r[2], department=r[3] or "",
                                    station=r[4] or "", county_code=r[5], lon=r[6], lat=r[7],
                                    distance_m=round(float(d)), eta_seconds=round(eta)))
    return out


def recommend(incident: Incident, *, alternatives: int = ALTERNATIVES, plan: ResponsePlan | None = None,
              index: UnitIndex | None = None) -> Recommendation:
    """The recommended units for ``incident`` by its response plan (read only; no permission check: the
    dispatch services and pages call it for users allowed to see the incident).

    Hot path (a few raw queries, no ORM compilation): the plan; the units already on the incident; the busy
    units of the needed types; the index (one aggregate, rebuilt when stale); the chosen units re-read."""
    info: PlanInfo | None
    if plan is not None:
        info = PlanInfo(plan.pk, plan.incident_type.code, plan.severity, plan.needs)
    else:
        info = _plan_info(incident)
    needs = plan_needs(info)
    area = area_of_grid(incident.grid_code)
    result = Recommendation(incident_id=incident.pk, plan_id=info.pk if info else None,
                            plan_code=info.code if info else "", plan_severity=info.severity if info else None,
                            area=area)
    if not needs:
        return result
    with connection.cursor() as cur:
        cur.execute(f"SELECT u.unit_type FROM {_ASSIGNMENT} a JOIN {_UNIT} u ON u.id = a.unit_id "  # noqa: S608
                    "WHERE a.incident_id = %s AND a.cleared_at IS NULL", [incident.pk])
        assigned = Counter(row[0] for row in cur.fetchall())
    missing = {t: max(0, n - assigned[t]) for t, n in needs.items()}
    wanted = [t for t in needs if missing[t] + alternatives > 0]  # alternatives also for needs already met
    picked: dict[str, NDArray[np.int64]] = {}
    if wanted:
        arrays = (index or _index).arrays()
        marks = ", ".join(["%s"] * len(wanted))
        with connection.cursor() as cur:
            cur.execute(f"SELECT id FROM {_UNIT} WHERE status <> %s AND unit_type IN ({marks})",  # noqa: S608
                        [UnitStatus.AVAILABLE.value, *wanted])
            busy = np.array([row[0] for row in cur.fetchall()], dtype=np.int64)
        for t in wanted:
            picked[t], _dist = _nearest(arrays.get(t, _EMPTY), busy, incident.lon, incident.lat,
                                        missing[t] + max(0, alternatives))
    fresh = _candidates([int(i) for ids in picked.values() for i in ids], incident, area) if picked else {}
    for t, n in needs.items():
        ranked = sorted((fresh[int(i)] for i in picked.get(t, ()) if int(i) in fresh and
                         fresh[int(i)][1].unit_type == t), key=lambda e: (e[0], e[1].unit_id))
        cands = [c for _eta, c in ranked]
        result.needs.append(Need(unit_type=t, needed=n, assigned=assigned[t], chosen=cands[:missing[t]],
                                 alternatives=cands[missing[t]:]))
    return result


def recommend_many(incidents: Sequence[Incident]) -> dict[int, Recommendation]:
    """Recommendations for several incidents, resolving all plans in one query."""
    plans = plans_for((_type_code(i), i.severity) for i in incidents)
    return {i.pk: recommend(i, plan=plans[(_type_code(i), i.severity)]) for i in incidents}


def brute_force(incident: Incident, needs: dict[str, int], units: Iterable[tuple[int, str, str, float, float]],
                area: str) -> dict[str, list[tuple[int, int]]]:
    """Reference implementation (tests, benchmark): a Python loop over every unit ``(pk, type, status, lon,
    lat)``; per needed type the ``needs[type]`` available units with the smallest ETA as ``(pk, eta)``."""
    import math

    found: dict[str, list[tuple[float, int]]] = {t: [] for t in needs}
    plat, plon = math.radians(incident.lat), math.radians(incident.lon)
    for pk, unit_type, status, lon, lat in units:
        if status != UnitStatus.AVAILABLE or unit_type not in needs:
            continue
        ulat = math.radians(lat)
        h = math.sin((ulat - plat) / 2) ** 2 + math.cos(plat) * math.cos(ulat) * math.sin(
            (math.radians(lon) - plon) / 2) ** 2
        d = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(h, 1.0)))
        found[unit_type].append((float(travel_seconds(unit_type, d, area)), pk))
    return {t: [(pk, round(eta)) for eta, pk in sorted(found[t])[:n]] for t, n in needs.items()}
