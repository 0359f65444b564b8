"""The open-data catalogue as DCAT-AP 2 (rdflib): ``/open/catalog.jsonld`` and ``/open/catalog.ttl``.

Mandatory classes and properties: dcat:Catalog (dct:title, dct:description, dct:publisher,
dcat:dataset), dcat:Dataset (dct:title, dct:description), dcat:Distribution (dcat:accessURL),
foaf:Agent (foaf:name); plus the recommended ones that are known (keywords, themes, publisher,
licence, format, media type, frequency, issued/modified, landing page).
"""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from .models import CatalogueResource, UpdateFrequency
from .opendata import LICENSES, download_path, open_fields, open_resources, theme_title

EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
IANA_MEDIA = Namespace("https://www.iana.org/assignments/media-types/")
FREQUENCY = {
    UpdateFrequency.REALTIME: "UPDATE_CONT", UpdateFrequency.DAILY: "DAILY", UpdateFrequency.WEEKLY: "WEEKLY",
    UpdateFrequency.MONTHLY: "MONTHLY", UpdateFrequency.QUARTERLY: "QUARTERLY", UpdateFrequency.YEARLY: "ANNUAL",
}
CATALOGUE_TITLE = ("聊城市公共数据开放目录", "Liaocheng Open Data Catalogue")
CATALOGUE_DESCRIPTION = (
    "聊城市各部门依法向社会开放的公共数据资源，含数据集说明与下载。",
    "Public data resources opened by the departments of Liaocheng, with descriptions and downloads.",
)
PUBLISHER = ("371500-big_data", "聊城市大数据局")

JSONLD_CONTEXT = {
    "dcat": str(DCAT), "dct": str(DCTERMS), "foaf": str(FOAF), "xsd": str(XSD),
    "rdf": str(RDF),
}


def _agent(graph: Graph, base: str, code: str, name: str) -> URIRef:
    agent = URIRef(f"{base}/open/organizations/{code}")
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(name, lang="zh")))
    return agent


def _dataset(graph: Graph, base: str, resource: CatalogueResource) -> URIRef:
    dataset = URIRef(f"{base}/open/datasets/{resource.slug}")
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.title, Literal(resource.name, lang="zh")))
    if resource.name_en:
        graph.add((dataset, DCTERMS.title, Literal(resource.name_en, lang="en")))
    graph.add((dataset, DCTERMS.description, Literal(resource.description or resource.name, lang="zh")))
    graph.add((dataset, DCTERMS.identifier, Literal(str(resource.uid))))
    graph.add((dataset, DCTERMS.issued, Literal(resource.created_at.isoformat(), datatype=XSD.dateTime)))
    graph.add((dataset, DCTERMS.modified, Literal(resource.modified_at.isoformat(), datatype=XSD.dateTime)))
    graph.add((dataset, DCAT.landingPage, URIRef(f"{base}/open/datasets/{resource.slug}/")))
    graph.add((dataset, DCTERMS.publisher, _agent(graph, base, resource.department.code, resource.department.name)))
    for tag in resource.tags:
        graph.add((dataset, DCAT.keyword, Literal(tag, lang="zh")))
    if resource.theme:
        graph.add((dataset, DCAT.keyword, Literal(theme_title(resource.theme), lang="zh")))
    frequency = FREQUENCY.get(UpdateFrequency(resource.update_frequency)) \
        if resource.update_frequency in UpdateFrequency.values else None
    if frequency:
        graph.add((dataset, DCTERMS.accrualPeriodicity, EU_FREQUENCY[frequency]))
    distribution = URIRef(f"{base}{download_path(resource)}")
    graph.add((dataset, DCAT.distribution, distribution))
    graph.add((distribution, RDF.type, DCAT.Distribution))
    graph.add((distribution, DCAT.accessURL, distribution))
    graph.add((distribution, DCAT.downloadURL, distribution))
    graph.add((distribution, DCTERMS.title, Literal(f"{resource.name}（CSV）", lang="zh")))
    graph.add((distribution, DCTERMS.description, Literal(
        "字段 / fields: " + ", ".join(f.name for f in open_fields(resource)), lang="zh")))
    graph.add((distribution, DCTERMS.format, EU_FILE_TYPE["CSV"]))
    graph.add((distribution, DCAT.mediaType, IANA_MEDIA["text/csv"]))
    licence = LICENSES.get(resource.license_id)
    if licence:
        graph.add((distribution, DCTERMS.license, URIRef(licence[2])))
    return dataset


def catalogue_graph(base_url: str) -> Graph:
    base = base_url.rstrip("/")
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dct", DCTERMS)
    graph.bind("foaf", FOAF)
    catalogue = URIRef(f"{base}/open/catalog")
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Literal(CATALOGUE_TITLE[0], lang="zh")))
    graph.add((catalogue, DCTERMS.title, Literal(CATALOGUE_TITLE[1], lang="en")))
    graph.add((catalogue, DCTERMS.description, Literal(CATALOGUE_DESCRIPTION[0], lang="zh")))
    graph.add((catalogue, DCTERMS.description, Literal(CATALOGUE_DESCRIPTION[1], lang="en")))
    graph.add((catalogue, DCTERMS.publisher, _agent(graph, base, *PUBLISHER)))
    graph.add((catalogue, FOAF.homepage, URIRef(f"{base}/open/")))
    graph.add((catalogue, DCTERMS.language, URIRef("http://publications.europa.eu/resource/authority/language/ZHO")))
    for resource in open_resources():
        graph.add((catalogue, DCAT.dataset, _dataset(graph, base, resource)))
    return graph


def as_jsonld(base_url: str) -> str:
    return catalogue_graph(base_url).serialize(format="json-ld", context=JSONLD_CONTEXT, indent=2)


def as_turtle(base_url: str) -> str:
    return catalogue_graph(base_url).serialize(format="turtle")
