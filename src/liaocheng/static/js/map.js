/*
 * 数字聊城 – division and unit grid map (Leaflet, no tile layer: a plain background).
 *
 * Layers come from the platform's own OGC API – Features (/ogcapi/...); clicking the map asks the
 * JSON API (/api/geo/locate) which grid, community, township and county the point lies in.
 * All coordinates are GCJ-02, like the data.
 *
 * Spatial layers (points of interest, land parcels, rivers, lakes) are the OGC API collections that carry a
 * "layer" member: each gets an entry in the layer control, its features are loaded when it is first shown
 * (point layers are shown at once), and a click on a feature opens a popup with its properties.
 *
 * Progress is published on <body> for tests and monitoring:
 *   data-counties-loaded, data-townships-loaded, data-grids-loaded (numbers), data-map-error,
 *   data-layers (codes of the spatial layers offered), data-layers-loaded ("code:count,...").
 */
(function () {
  "use strict";

  var el = document.getElementById("map");
  if (!el || !window.L || !window.LiaochengMap) {
    return;
  }
  var S = JSON.parse(document.getElementById("map-strings").textContent);
  var body = document.body;
  var layerStatus = document.getElementById("layer-status");
  var gridStatus = document.getElementById("grid-status");
  var gridMinZoom = Number(el.dataset.gridMinZoom || 13);
  var gridLimit = Number(el.dataset.gridLimit || 5000);

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : match;
    });
  }

  var fetchJSON = LiaochengMap.fetchJSON;
  var isCurrent = LiaochengMap.isCurrent;
  var styles = LiaochengMap.styles;

  // --- the map: county outlines (in the "counties" overlay) fitted to the view, attribution, scale ----
  var base = LiaochengMap.create(el, {
    center: [36.45, 115.85],
    attribution: S.attribution,
    scale: true,
    leaflet: { preferCanvas: true, zoomSnap: 1 },
    outlinesTo: null,
    outlineStyle: styles.county,
    fit: true,
  });
  var map = base.map;
  window.liaochengMap = map;

  var countyLines = base.outlines;
  var countyLabels = L.layerGroup();
  var counties = L.layerGroup([countyLines, countyLabels]);
  var townshipLines = L.geoJSON(null, { style: styles.township, interactive: false });
  var townshipLabels = L.layerGroup();
  var townships = L.layerGroup([townshipLines]);
  var grids = L.geoJSON(null, {
    interactive: false,
    style: function (feature) {
      return feature.properties.size_class === "urban" ? styles.gridUrban : styles.gridRural;
    },
  });
  counties.addTo(map);
  townships.addTo(map);
  grids.addTo(map);

  function label(layer, text, className) {
    return L.tooltip({ permanent: true, direction: "center", className: className, interactive: false })
      .setLatLng(layer.getBounds().getCenter())
      .setContent(text);
  }

  var overlays = {};
  overlays[S.counties] = counties;
  overlays[S.townships] = townships;
  overlays[S.grids] = grids;
  var layerControl = L.control.layers(null, overlays, { collapsed: window.innerWidth < 720, position: "topright" })
    .addTo(map);

  // --- legend ------------------------------------------------------------------------------------
  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "map-legend");
    var title = L.DomUtil.create("strong", "", div);
    title.textContent = S.legend;
    [
      ["county", S.counties],
      ["township", S.townships],
      ["grid-urban", S.gridUrban],
      ["grid-rural", S.gridRural],
    ].forEach(function (item) {
      var row = L.DomUtil.create("div", "legend-row", div);
      L.DomUtil.create("span", "swatch swatch-" + item[0], row);
      var text = L.DomUtil.create("span", "", row);
      text.textContent = item[1];
    });
    var note = L.DomUtil.create("div", "legend-note", div);
    note.textContent = S.datum;
    L.DomEvent.disableClickPropagation(div);
    return div;
  };
  legend.addTo(map);
  var legendDiv = legend.getContainer();

  // --- counties and townships ----------------------------------------------------------------------
  var loaded = { counties: null, townships: null };

  function showLayerStatus() {
    if (loaded.counties === null || loaded.townships === null) {
      layerStatus.textContent = S.loading;
      return;
    }
    layerStatus.textContent = fmt(S.loaded, { counties: loaded.counties, townships: loaded.townships });
  }

  function fail(what, error) {
    body.dataset.mapError = what;
    layerStatus.textContent = S.loadFailed;
    if (window.console) {
      window.console.error(what, error);
    }
  }

  base.ready
    .then(function () {
      var count = countyLines.getLayers().length;
      countyLines.eachLayer(function (layer) {
        countyLabels.addLayer(label(layer, layer.feature.properties.name, "map-label county-label"));
      });
      loaded.counties = count;
      showLayerStatus();
      body.dataset.countiesLoaded = String(count);
    })
    .catch(function (error) {
      fail("counties", error);
    });

  fetchJSON(el.dataset.townshipsUrl)
    .then(function (collection) {
      var features = collection.features.filter(isCurrent);
      townshipLines.addData(features);
      townshipLines.eachLayer(function (layer) {
        townshipLabels.addLayer(label(layer, layer.feature.properties.name, "map-label township-label"));
      });
      loaded.townships = features.length;
      showLayerStatus();
      updateTownshipLabels();
      body.dataset.townshipsLoaded = String(features.length);
    })
    .catch(function (error) {
      fail("townships", error);
    });

  function updateTownshipLabels() {
    var wanted = map.hasLayer(townships) && map.getZoom() >= 11 && map.getZoom() < 15;
    if (wanted && !townships.hasLayer(townshipLabels)) {
      townships.addLayer(townshipLabels);
    } else if (!wanted && townships.hasLayer(townshipLabels)) {
      townships.removeLayer(townshipLabels);
    }
    var countyLabelsWanted = map.getZoom() < 11;
    if (countyLabelsWanted && !counties.hasLayer(countyLabels)) {
      counties.addLayer(countyLabels);
    } else if (!countyLabelsWanted && counties.hasLayer(countyLabels)) {
      counties.removeLayer(countyLabels);
    }
  }

  // --- unit grids for the current view -------------------------------------------------------------
  var gridRequest = null;
  var gridSeq = 0;

  function refreshGrids() {
    if (gridRequest) {
      gridRequest.abort();
      gridRequest = null;
    }
    var seq = ++gridSeq;
    if (!map.hasLayer(grids)) {
      return;
    }
    if (map.getZoom() < gridMinZoom) {
      grids.clearLayers();
      gridStatus.textContent = S.zoomHint;
      body.dataset.gridsLoaded = "0";
      return;
    }
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]
      .map(function (v) { return v.toFixed(6); })
      .join(",");
    gridRequest = new AbortController();
    gridStatus.textContent = S.gridsLoading;
    fetchJSON(el.dataset.gridsUrl + "?bbox=" + bbox + "&limit=" + gridLimit, gridRequest.signal)
      .then(function (collection) {
        if (seq !== gridSeq) {
          return;
        }
        gridRequest = null;
        grids.clearLayers();
        grids.addData(collection.features);
        var shown = collection.features.length;
        var total = collection.numberMatched == null ? shown : collection.numberMatched;
        gridStatus.textContent = shown < total
          ? fmt(S.gridsTruncated, { n: shown, total: total })
          : fmt(S.gridsShown, { n: shown });
        body.dataset.gridsLoaded = String(shown);
      })
      .catch(function (error) {
        if (error.name === "AbortError") {
          return;
        }
        gridStatus.textContent = S.loadFailed;
        body.dataset.mapError = "grids";
      });
  }

  map.on("moveend", refreshGrids);
  map.on("zoomend overlayadd overlayremove", updateTownshipLabels);
  map.on("overlayadd overlayremove", function (event) {
    if (event.layer === grids) {
      if (map.hasLayer(grids)) {
        refreshGrids();
      } else {
        gridStatus.textContent = "";
      }
    }
  });
  refreshGrids();

  // --- click: locate the point -------------------------------------------------------------------
  var highlighted = null;

  function highlightGrid(code) {
    if (highlighted) {
      grids.resetStyle(highlighted);
      highlighted = null;
    }
    grids.eachLayer(function (layer) {
      if (layer.feature.properties.code === code) {
        layer.setStyle(styles.highlight);
        highlighted = layer;
      }
    });
  }

  function divisionLink(code, name) {
    var a = document.createElement("a");
    a.href = el.dataset.divisionUrl.replace("000000", encodeURIComponent(code));
    a.textContent = name || code;
    return a;
  }

  function row(table, label, code, name, link) {
    var tr = table.insertRow();
    var th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    tr.appendChild(th);
    var td = tr.insertCell();
    if (link && code) {
      td.appendChild(divisionLink(code, name));
    } else if (name) {
      td.appendChild(document.createTextNode(name));
    }
    if (code) {
      var small = document.createElement("span");
      small.className = "code";
      small.textContent = code;
      td.appendChild(small);
    }
  }

  function locationContent(data) {
    var div = document.createElement("div");
    div.className = "locate-popup";
    var table = document.createElement("table");
    row(table, S.grid, data.grid_code, "", false);
    row(table, S.community, data.community_code, data.community_name, true);
    row(table, S.township, data.township_code, data.township_name, true);
    row(table, S.county, data.county_code, data.county_name, true);
    div.appendChild(table);
    var coords = document.createElement("p");
    coords.className = "coords";
    coords.textContent = S.coords + " " + Number(data.lon).toFixed(6) + ", " + Number(data.lat).toFixed(6);
    div.appendChild(coords);
    return div;
  }

  function errorMessage(data) {
    if (!data) {
      return S.loadFailed;
    }
    var message = S.lang === "en" ? data.message_en : data.message_zh;
    return message || data.message || data.detail || S.loadFailed;
  }

  map.on("click", function (event) {
    var lon = event.latlng.lng.toFixed(6);
    var lat = event.latlng.lat.toFixed(6);
    var popup = L.popup({ maxWidth: 320 }).setLatLng(event.latlng).setContent(S.locating).openOn(map);
    fetch(el.dataset.locateUrl + "?lon=" + lon + "&lat=" + lat, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (!result.ok || !result.data) {
          var p = document.createElement("p");
          p.className = "locate-error";
          p.textContent = errorMessage(result.data);
          popup.setContent(p);
          return;
        }
        popup.setContent(locationContent(result.data));
        highlightGrid(result.data.grid_code);
        body.dataset.lastLocated = result.data.grid_code;
      })
      .catch(function () {
        popup.setContent(S.loadFailed);
      });
  });

  // --- spatial layers (points of interest, land use, water) -----------------------------------------
  var layerStringsEl = document.getElementById("layer-strings");
  var LS = layerStringsEl ? layerStringsEl.dataset : {};
  var POINT_COLOURS = {
    schools: "#2563eb", hospitals: "#dc2626", shelters: "#16a34a", fire_stations: "#ea580c",
  };
  var OTHER_COLOURS = ["#7c3aed", "#0891b2", "#be185d", "#4d7c0f", "#a16207"];
  var LANDUSE_COLOURS = {
    "01": "#facc15", "02": "#a3e635", "03": "#15803d", "04": "#86efac", "05": "#f472b6", "06": "#a855f7",
    "07": "#f97316", "08": "#ef4444", "09": "#64748b", "10": "#9ca3af", "11": "#38bdf8", "12": "#d6d3d1",
  };
  var layerCounts = {};

  function layerColour(code, index) {
    return POINT_COLOURS[code] || OTHER_COLOURS[index % OTHER_COLOURS.length];
  }

  function pick(lang, zh, en) {
    return lang === "en" && en ? en : zh;
  }

  function publishLayerCounts() {
    body.dataset.layersLoaded = Object.keys(layerCounts).sort().map(function (code) {
      return code + ":" + layerCounts[code];
    }).join(",");
  }

  function formatValue(value, attr) {
    if (value === true) {
      return LS.yes || "是";
    }
    if (value === false) {
      return LS.no || "否";
    }
    if (typeof value === "number" && attr && attr.type === "number") {
      return value.toLocaleString();
    }
    return String(value);
  }

  function countyName(code) {
    var name = "";
    countyLines.eachLayer(function (layer) {
      if (layer.feature.properties.code === code) {
        name = layer.feature.properties.name;
      }
    });
    return name;
  }

  function featurePopup(info, feature) {
    var props = feature.properties || {};
    var div = document.createElement("div");
    div.className = "locate-popup layer-popup";
    var title = document.createElement("strong");
    title.textContent = props.name || String(feature.id);
    div.appendChild(title);
    var layerName = document.createElement("p");
    layerName.className = "small";
    layerName.textContent = pick(S.lang, info.name_zh, info.name_en) + " · " + (LS.featureId || "编号") + " "
      + feature.id;
    div.appendChild(layerName);
    var table = document.createElement("table");
    (info.attributes || []).forEach(function (attr) {
      var value = props[attr.name];
      if (value === undefined || value === null || value === "" || attr.name === "name") {
        return;
      }
      var tr = table.insertRow();
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = pick(S.lang, attr.label_zh, attr.label_en);
      tr.appendChild(th);
      tr.insertCell().textContent = formatValue(value, attr);
    });
    if (props.grid_code) {
      row(table, S.grid, props.grid_code, "", false);
      row(table, S.county, props.county_code, countyName(props.county_code), true);
    }
    div.appendChild(table);
    if (props.generated) {
      var note = document.createElement("p");
      note.className = "coords";
      note.textContent = LS.generated || "生成的演示数据";
      div.appendChild(note);
    }
    return div;
  }

  function layerStyle(info, colour) {
    if (info.geometryType === "LineString") {
      return function () { return { color: colour, weight: 3, opacity: 0.9 }; };
    }
    if (info.code === "land_parcels") {
      return function (feature) {
        var use = String((feature.properties || {}).landuse || "").slice(0, 2);
        var fill = LANDUSE_COLOURS[use] || colour;
        return { color: "#44403c", weight: 0.6, fillColor: fill, fillOpacity: 0.55 };
      };
    }
    return function () { return { color: colour, weight: 1.2, fillColor: colour, fillOpacity: 0.35 }; };
  }

  function makeLayer(info, colour) {
    return L.geoJSON(null, {
      style: layerStyle(info, colour),
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, {
          radius: 5, color: "#ffffff", weight: 1.2, fillColor: colour, fillOpacity: 0.95,
        });
      },
      onEachFeature: function (feature, leafletLayer) {
        leafletLayer.bindPopup(function () { return featurePopup(info, feature); }, { maxWidth: 320 });
        leafletLayer.on("click", function (event) { L.DomEvent.stopPropagation(event); });
      },
    });
  }

  function loadAll(url, group, code) {
    return fetchJSON(url).then(function (page) {
      group.addData(page.features);
      layerCounts[code] = (layerCounts[code] || 0) + page.features.length;
      var next = (page.links || []).filter(function (link) { return link.rel === "next"; })[0];
      if (next && page.features.length) {
        return loadAll(next.href, group, code);
      }
      return layerCounts[code];
    });
  }

  function addLegendRow(colour, text, isPoint) {
    if (!legendDiv) {
      return;
    }
    var rowDiv = L.DomUtil.create("div", "legend-row", legendDiv);
    var swatch = L.DomUtil.create("span", "swatch", rowDiv);
    swatch.style.borderColor = colour;
    swatch.style.background = colour;
    if (isPoint) {
      swatch.style.width = "12px";
      swatch.style.borderRadius = "50%";
    }
    var span = L.DomUtil.create("span", "", rowDiv);
    span.textContent = text;
    var note = legendDiv.querySelector(".legend-note");
    if (note) {
      legendDiv.appendChild(note);
    }
  }

  function offerLayer(collection, index) {
    var info = collection.layer;
    var colour = layerColour(info.code, index);
    var group = makeLayer(info, colour);
    var name = pick(S.lang, info.name_zh, info.name_en);
    var itemsUrl = (collection.links || []).filter(function (link) { return link.rel === "items"; })[0];
    if (!itemsUrl) {
      return null;
    }
    var loading = null;

    function ensureLoaded() {
      if (loading) {
        return loading;
      }
      var sep = itemsUrl.href.indexOf("?") === -1 ? "?" : "&";
      loading = loadAll(itemsUrl.href + sep + "limit=5000", group, info.code)
        .then(function (count) {
          publishLayerCounts();
          return count;
        })
        .catch(function (error) {
          loading = null;
          layerStatus.textContent = (LS.failed || S.loadFailed) + name;
          if (window.console) {
            window.console.error(info.code, error);
          }
        });
      return loading;
    }

    group.on("add", ensureLoaded);
    layerControl.addOverlay(group, name + (info.generated ? (LS.demoSuffix || "（演示）") : ""));
    addLegendRow(colour, name, info.geometryType === "Point");
    if (info.geometryType === "Point") {
      group.addTo(map);
    }
    return info.code;
  }

  if (el.dataset.collectionsUrl) {
    fetchJSON(el.dataset.collectionsUrl)
      .then(function (doc) {
        var offered = [];
        (doc.collections || []).filter(function (c) { return c.layer; }).forEach(function (c, i) {
          var code = offerLayer(c, i);
          if (code) {
            offered.push(code);
          }
        });
        body.dataset.layers = offered.join(",");
      })
      .catch(function (error) {
        body.dataset.layers = "";
        if (window.console) {
          window.console.error("layers", error);
        }
      });
  }
})();
