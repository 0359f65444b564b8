/*
 * 数字聊城 – the shared Leaflet map set-up. Load after vendor/leaflet/leaflet.js and before the page script.
 *
 * No online tiles: the base map is a plain background with the county outlines from the platform's own
 * OGC API – Features (the map element's data-counties-url, e.g. /ogcapi/collections/counties/items?limit=100).
 * Only the current records are drawn (historical ones carry valid_to). All coordinates are GCJ-02.
 *
 *   var m = LiaochengMap.create("report-map", { zoom: 10 });
 *   m.map       the L.Map (made at once, so L.Map init hooks such as urban-components.js see it)
 *   m.outlines  the L.GeoJSON of the county outlines (null with outlines: false), filled when loaded
 *   m.ready     a Promise: resolves with m.outlines once drawn, rejects when they could not be loaded
 *               (the outline is decoration: nothing else happens then; a rejection nobody waits for is
 *               not reported as unhandled)
 *
 * Options (all optional):
 *   center, zoom       the first view (default LiaochengMap.CENTRE, LiaochengMap.ZOOM)
 *   minZoom, maxZoom   default 7 and 18; null leaves Leaflet's own limits
 *   attribution        false (default): no attribution control; true: the control without the Leaflet
 *                      prefix; a string: that text as well
 *   scale              true: a metric scale bar bottom left
 *   leaflet            further L.map options (preferCanvas, zoomSnap, ...)
 *   outlines           false: no county outlines
 *   outlinesUrl        default the element's data-counties-url; none: the outlines are not loaded
 *   outlinesTo         where the outline layer goes (default the map; null: the caller adds it)
 *   outlineStyle       Leaflet path options merged over LiaochengMap.styles.outline
 *   currentOnly        default true: leave out historical records (valid_to set)
 *   fit                true: fit the view to the outlines once loaded and keep the map near them
 *
 * Also: styles (the shared colours), point(latlng, overrides) (the red marker of a picked point),
 * pin(map, overrides) -> place(latlng[, zoom]) (one such marker, moved on each call, optionally centred),
 * fetchJSON(url, signal), isCurrent(feature), CENTRE and ZOOM (the default view).
 */
(function () {
  "use strict";

  var CENTRE = [36.45, 115.95];
  var ZOOM = 9;

  var styles = {
    // the outline under the small maps (forms, pickers, lists)
    outline: { color: "#0b4a8b", weight: 1.2, fillColor: "#dfe9f5", fillOpacity: 0.4 },
    // the division map
    county: {
      color: "#0b4a8b", weight: 2.4, opacity: 0.95, fill: true, fillColor: "#dfe9f5", fillOpacity: 0.45,
    },
    township: { color: "#4f7cac", weight: 1, opacity: 0.9, dashArray: "4 3", fill: false },
    gridUrban: { color: "#c8102e", weight: 0.6, opacity: 0.8, fillColor: "#c8102e", fillOpacity: 0.05 },
    gridRural: { color: "#b45309", weight: 0.7, opacity: 0.8, fillColor: "#b45309", fillOpacity: 0.04 },
    highlight: { color: "#111827", weight: 2.5, fillColor: "#facc15", fillOpacity: 0.45 },
    // a picked or reported point
    point: { radius: 8, color: "#fff", weight: 2, fillColor: "#c8102e", fillOpacity: 1 },
  };

  function extend(target) {
    for (var i = 1; i < arguments.length; i++) {
      var source = arguments[i];
      if (source) {
        Object.keys(source).forEach(function (key) { target[key] = source[key]; });
      }
    }
    return target;
  }

  function isCurrent(feature) {
    return !feature.properties || feature.properties.valid_to == null;
  }

  function fetchJSON(url, signal) {
    return fetch(url, {
      headers: { Accept: "application/geo+json, application/json" },
      credentials: "same-origin",
      signal: signal,
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status + " " + url);
      }
      return response.json();
    });
  }

  function point(latlng, overrides) {
    return L.circleMarker(latlng, extend({}, styles.point, overrides));
  }

  // One movable point marker on the map: place(latlng) puts it there (made on the first call);
  // place(latlng, zoom) also centres the map on it at that zoom.
  function pin(map, overrides) {
    var marker = null;
    return function place(latlng, zoom) {
      if (marker) {
        marker.setLatLng(latlng);
      } else {
        marker = point(latlng, overrides).addTo(map);
      }
      if (zoom != null) {
        map.setView(latlng, zoom);
      }
      return marker;
    };
  }

  function loadOutlines(map, layer, url, options) {
    if (!url) {
      return Promise.reject(new Error("no county outlines URL"));
    }
    return fetchJSON(url).then(function (collection) {
      var features = collection.features || [];
      layer.addData(options.currentOnly === false ? features : features.filter(isCurrent));
      if (options.fit) {
        var bounds = layer.getBounds();
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [12, 12], animate: false });
          map.setMaxBounds(bounds.pad(0.6));
        }
      }
      return layer;
    });
  }

  function create(elementOrId, options) {
    var el = typeof elementOrId === "string" ? document.getElementById(elementOrId) : elementOrId;
    if (!el || !window.L) {
      return null;
    }
    options = options || {};
    var attribution = options.attribution || false;
    var mapOptions = extend({ attributionControl: Boolean(attribution) }, options.leaflet);
    var minZoom = options.minZoom === undefined ? 7 : options.minZoom;
    var maxZoom = options.maxZoom === undefined ? 18 : options.maxZoom;
    if (minZoom != null) {
      mapOptions.minZoom = minZoom;
    }
    if (maxZoom != null) {
      mapOptions.maxZoom = maxZoom;
    }
    var map = L.map(el, mapOptions);
    if (attribution) {
      map.attributionControl.setPrefix(false);
      if (typeof attribution === "string") {
        map.attributionControl.addAttribution(attribution);
      }
    }
    map.setView(options.center || CENTRE, options.zoom == null ? ZOOM : options.zoom);
    if (options.scale) {
      L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);
    }

    var outlines = null;
    var ready;
    if (options.outlines === false) {
      ready = Promise.resolve(null);
    } else {
      outlines = L.geoJSON(null, { style: extend({}, styles.outline, options.outlineStyle), interactive: false });
      var target = options.outlinesTo === undefined ? map : options.outlinesTo;
      if (target) {
        outlines.addTo(target);
      }
      var url = options.outlinesUrl === undefined ? el.dataset.countiesUrl : options.outlinesUrl;
      ready = loadOutlines(map, outlines, url, options);
      ready.catch(function () { /* the outline is decoration only: a page that cares chains on ready */ });
    }
    return { map: map, outlines: outlines, ready: ready };
  }

  window.LiaochengMap = {
    CENTRE: CENTRE,
    ZOOM: ZOOM,
    styles: styles,
    create: create,
    point: point,
    pin: pin,
    fetchJSON: fetchJSON,
    isCurrent: isCurrent,
  };
})();
