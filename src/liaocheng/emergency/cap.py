"""CAP 1.2 (OASIS Common Alerting Protocol, ITU-T X.1303) for public warnings: pure functions, no database.

``warnings.py`` turns a ``PublicWarning`` into an :class:`Alert` and freezes :func:`to_xml`'s output at issue,
after :func:`validate` (the official OASIS schema, ``data/CAP-v1.2.xsd``, plus the CAP rules a schema cannot
express). :func:`atom_feed` writes the public index of alerts (one Atom entry per alert, linked with
``rel="alternate" type="application/cap+xml"``, the form alert hubs and aggregators read).

Chinese practice (GB/T 35965.1 and the national early-warning release system, reference ``emergency.md``):

- ``identifier`` = ``ZZZZZZDDDUUUXX_YYYYMMDDhhmmss``: the 14-digit issuing-unit code (6-digit GB/T 2260 region,
  3-digit GB/T 4657 agency, 3-digit internal unit, default ``000``, 2-digit extension, default ``00``), an
  underscore, then the time in Beijing time (see :func:`unit_code`, :func:`make_identifier`);
- every time carries the numeric offset ``+08:00`` (never ``Z``; :func:`cap_time`);
- two ``info`` blocks, ``zh-CN`` then ``en-US``;
- one ``geocode`` per area code, ``valueName`` ``CPEAS Geographic Code`` (:data:`GEOCODE_NAME`), value the
  GB/T 2260 code;
- severity from the warning colour: red Extreme, orange Severe, yellow Moderate, blue Minor.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
ATOM_MIME = "application/atom+xml"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "CAP-v1.2.xsd"
BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")  # China has no daylight saving time: a fixed offset

GEOCODE_NAME = "CPEAS Geographic Code"  # 国家突发事件预警信息发布系统 (CPEAS) region code = GB/T 2260
EVENT_CODE_NAME = "GB/T 35561"          # eventCode: the 5-character incident type code, e.g. 11B03
LEVEL_PARAMETER = "warningLevel"        # parameter: red / orange / yellow / blue

# CAP enumerations (CAP 1.2 §3.2); the schema checks them again
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra", "CBRNE",
              "Other")
RESPONSE_TYPES = ("Shelter", "Evacuate", "Prepare", "Execute", "Avoid", "Monitor", "Assess", "AllClear", "None")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")

# warning colour (预警级别) -> CAP severity
SEVERITY_BY_LEVEL = {"red": "Extreme", "orange": "Severe", "yellow": "Moderate", "blue": "Minor"}

IDENTIFIER_RE = re.compile(r"^(?P<unit>(?P<region>\d{6})(?P<agency>\d{3})(?P<unit_no>\d{3})(?P<ext>\d{2}))"
                           r"_(?P<time>\d{14})$")
_CAP_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_FORBIDDEN_IN_IDS = re.compile(r"[\s,<&]")  # CAP 1.2: identifier and sender hold no spaces, commas, < or &


class CapError(ValueError):
    """The alert cannot be built or is not valid CAP 1.2 (``errors`` lists every problem found)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


# --- the alert ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Area:
    desc: str
    geocodes: tuple[tuple[str, str], ...] = ()  # (valueName, value)


@dataclass(frozen=True)
class Info:
    language: str
    categories: tuple[str, ...]
    event: str
    urgency: str
    severity: str
    certainty: str
    response_types: tuple[str, ...] = ()
    event_codes: tuple[tuple[str, str], ...] = ()
    effective: dt.datetime | None = None
    onset: dt.datetime | None = None
    expires: dt.datetime | None = None
    sender_name: str = ""
    headline: str = ""
    description: str = ""
    instruction: str = ""
    web: str = ""
    contact: str = ""
    parameters: tuple[tuple[str, str], ...] = ()
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: dt.datetime
    status: str
    msg_type: str
    scope: str = "Public"
    source: str = ""
    restriction: str = ""
    addresses: str = ""
    codes: tuple[str, ...] = ()
    note: str = ""
    references: tuple[str, ...] = ()  # each "sender,identifier,sent"
    incidents: str = ""
    infos: tuple[Info, ...] = ()


# --- codes and times -----------------------------------------------------------------------------------------

def cap_time(value: dt.datetime) -> str:
    """A CAP date-time in Beijing time with its numeric offset: ``2026-07-12T10:30:00+08:00`` (never ``Z``)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CapError(["CAP times must be timezone-aware"])
    return value.astimezone(BEIJING).replace(microsecond=0).isoformat()


def beijing(value: dt.datetime) -> dt.datetime:
    """``value`` in Beijing time, whole seconds (what an identifier and ``sent`` carry)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CapError(["CAP times must be timezone-aware"])
    return value.astimezone(BEIJING).replace(microsecond=0)


def unit_code(region: str, agency: str, unit: str = "000", extension: str = "00") -> str:
    """The 14-digit issuing-unit code ``ZZZZZZDDDUUUXX`` (发布单位代码)."""
    parts = ((region, 6, "region (GB/T 2260)"), (agency, 3, "agency (GB/T 4657)"), (unit, 3, "unit"),
             (extension, 2, "extension"))
    errors = [f"{label} must be {n} digits, not {value!r}" for value, n, label in parts
              if not (len(value) == n and value.isdigit())]
    if errors:
        raise CapError(errors)
    return f"{region}{agency}{unit}{extension}"


def make_identifier(unit: str, sent: dt.datetime) -> str:
    """``ZZZZZZDDDUUUXX_YYYYMMDDhhmmss``: the unit code and the sending time in Beijing time."""
    if not (len(unit) == 14 and unit.isdigit()):
        raise CapError([f"the issuing-unit code must be 14 digits, not {unit!r}"])
    return f"{unit}_{beijing(sent):%Y%m%d%H%M%S}"


def reference(sender: str, identifier: str, sent: dt.datetime | str) -> str:
    """One entry of ``<references>``: ``sender,identifier,sent``."""
    return ",".join((sender, identifier, sent if isinstance(sent, str) else cap_time(sent)))


def category_for_type(code: str) -> str:
    """A default CAP category for a GB/T 35561 incident type code (the drafter may choose another)."""
    code = (code or "").upper()
    cls, sub = code[1:2], code[2:3]
    if cls == "1":
        return {"A": "Met", "B": "Met", "C": "Geo", "D": "Geo", "E": "Met", "F": "Env", "G": "Fire"}.get(sub, "Other")
    if cls == "2":
        return {"D": "CBRNE", "E": "CBRNE", "T": "CBRNE", "G": "Fire", "H": "Transport", "J": "Transport",
                "K": "Transport", "L": "Transport", "M": "Transport", "P": "Infra", "U": "Infra",
                "Q": "Env"}.get(sub, "Safety")
    if cls == "3":
        return "Health"
    if cls == "4":
        return "Security"
    return "Other"


# --- XML -------------------------------------------------------------------------------------------------------

def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _opt(parent: etree._Element, tag: str, text: str) -> None:
    if text:
        _sub(parent, tag, text)


def _pairs(parent: etree._Element, tag: str, pairs: tuple[tuple[str, str], ...]) -> None:
    for name, value in pairs:
        pair = _sub(parent, tag)
        _sub(pair, "valueName", name)
        _sub(pair, "value", value)


def _info(parent: etree._Element, info: Info) -> None:
    """Children in the order of the schema's sequence (it is order-sensitive)."""
    element = _sub(parent, "info")
    _sub(element, "language", info.language)
    for category in info.categories:
        _sub(element, "category", category)
    _sub(element, "event", info.event)
    for response_type in info.response_types:
        _sub(element, "responseType", response_type)
    _sub(element, "urgency", info.urgency)
    _sub(element, "severity", info.severity)
    _sub(element, "certainty", info.certainty)
    _pairs(element, "eventCode", info.event_codes)
    for tag, value in (("effective", info.effective), ("onset", info.onset), ("expires", info.expires)):
        if value is not None:
            _sub(element, tag, cap_time(value))
    for tag, text in (("senderName", info.sender_name), ("headline", info.headline),
                      ("description", info.description), ("instruction", info.instruction), ("web", info.web),
                      ("contact", info.contact)):
        _opt(element, tag, text)
    _pairs(element, "parameter", info.parameters)
    for area in info.areas:
        area_element = _sub(element, "area")
        _sub(area_element, "areaDesc", area.desc)
        _pairs(area_element, "geocode", area.geocodes)


def to_xml(alert: Alert) -> bytes:
    """The alert as a UTF-8 CAP 1.2 document (default namespace, schema element order)."""
    try:
        root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
        _sub(root, "identifier", alert.identifier)
        _sub(root, "sender", alert.sender)
        _sub(root, "sent", cap_time(alert.sent))
        _sub(root, "status", alert.status)
        _sub(root, "msgType", alert.msg_type)
        _opt(root, "source", alert.source)
        _sub(root, "scope", alert.scope)
        _opt(root, "restriction", alert.restriction)
        _opt(root, "addresses", alert.addresses)
        for code in alert.codes:
            _sub(root, "code", code)
        _opt(root, "note", alert.note)
        if alert.references:
            _sub(root, "references", " ".join(alert.references))
        _opt(root, "incidents", alert.incidents)
        for info in alert.infos:
            _info(root, info)
    except ValueError as exc:  # lxml refuses control characters and the like
        raise CapError([f"text not allowed in XML: {exc}"]) from exc
    return _XML_DECLARATION + etree.tostring(root, encoding="unicode", pretty_print=True).encode("utf-8")


@cache
def schema() -> etree.XMLSchema:
    """The official OASIS CAP 1.2 schema (vendored, see ``data/README.md``)."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


_SCHEMA_LOCK = threading.Lock()  # an lxml schema keeps its error log on the object: one validation at a time
_NO_NETWORK = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path, default="", namespaces={"cap": CAP_NS}) or "").strip()


def _rule_errors(root: etree._Element) -> list[str]:
    """CAP 1.2 rules the schema cannot express (§3.2.1–3.2.4), plus the Chinese profile's time offset."""
    errors: list[str] = []
    for tag in ("identifier", "sender"):
        value = _text(root, f"cap:{tag}")
        if not value or _FORBIDDEN_IN_IDS.search(value):
            errors.append(f"<{tag}> must be non-empty without spaces, commas, '<' or '&'")
    msg_type, scope = _text(root, "cap:msgType"), _text(root, "cap:scope")
    references = _text(root, "cap:references").split()
    if msg_type in ("Update", "Cancel") and not references:
        errors.append(f"<references> is required for msgType {msg_type}")
    for ref in references:
        parts = ref.split(",")
        if len(parts) != 3 or not all(parts) or not _CAP_TIME_RE.match(parts[2]):
            errors.append(f"<references> entry {ref!r} is not 'sender,identifier,sent'")
    if scope == "Restricted" and not _text(root, "cap:restriction"):
        errors.append("<restriction> is required when scope is Restricted")
    if scope == "Private" and not _text(root, "cap:addresses"):
        errors.append("<addresses> is required when scope is Private")
    for element in root.iter(*(f"{{{CAP_NS}}}{t}" for t in ("sent", "effective", "onset", "expires"))):
        if (element.text or "").endswith("Z"):
            errors.append(f"<{etree.QName(element).localname}> must carry a numeric offset (+08:00), not Z")
    for area in root.iter(f"{{{CAP_NS}}}area"):
        if not _text(area, "cap:areaDesc"):
            errors.append("<areaDesc> must not be empty")
    return errors


def validate(xml: bytes | str) -> list[str]:
    """Every problem of a CAP document: XML syntax, the official XSD, then the spec's other rules.
    An empty list means valid."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        root = etree.fromstring(data, parser=_NO_NETWORK)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    with _SCHEMA_LOCK:
        xsd = schema()
        ok = xsd.validate(root)
        errors = [] if ok else [f"line {e.line}: {e.message}" for e in xsd.error_log]
    return errors + _rule_errors(root)


def assert_valid(xml: bytes | str) -> None:
    errors = validate(xml)
    if errors:
        raise CapError(errors)


# --- the public index (Atom) -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedEntry:
    id: str
    title: str
    updated: dt.datetime
    published: dt.datetime
    cap_url: str
    summary: str = ""
    html_url: str = ""
    author: str = ""
    categories: tuple[str, ...] = ()


def _atom(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        element.text = text
    return element


def atom_feed(*, feed_id: str, title: str, self_url: str, html_url: str, updated: dt.datetime, author: str,
              entries: list[FeedEntry], lang: str = "zh-CN") -> bytes:
    """An Atom 1.0 (RFC 4287) index of CAP alerts: each entry's ``link rel="alternate"`` of type
    ``application/cap+xml`` is the alert itself; the web page, when given, is ``rel="related"``."""
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    root.set("{http://www.w3.org/XML/1998/namespace}lang", lang)
    _atom(root, "id", feed_id)
    _atom(root, "title", title)
    _atom(root, "updated", cap_time(updated))
    _atom(root, "link", rel="self", type=ATOM_MIME, href=self_url)
    _atom(root, "link", rel="alternate", type="text/html", href=html_url)
    _atom(_atom(root, "author"), "name", author)
    for entry in entries:
        item = _atom(root, "entry")
        _atom(item, "id", entry.id)
        _atom(item, "title", entry.title)
        _atom(item, "updated", cap_time(entry.updated))
        _atom(item, "published", cap_time(entry.published))
        if entry.author:
            _atom(_atom(item, "author"), "name", entry.author)
        for term in entry.categories:
            _atom(item, "category", term=term)
        _atom(item, "link", rel="alternate", type=CAP_MIME, href=entry.cap_url)
        if entry.html_url:
            _atom(item, "link", rel="related", type="text/html", href=entry.html_url)
        if entry.summary:
            _atom(item, "summary", entry.summary, type="text")
    return _XML_DECLARATION + etree.tostring(root, encoding="unicode", pretty_print=True).encode("utf-8")
