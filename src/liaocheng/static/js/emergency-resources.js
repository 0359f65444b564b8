/*
 * 数字聊城 – emergency resources: the list's map (stations, units or fixed resources of the current filters, from
 * the JSON in #resource-points) and the forms' point picker (a click sets the GCJ-02 longitude/latitude inputs).
 * Leaflet without online tiles: county outlines from our own OGC API. Progress for tests:
 * body[data-resources-shown] (markers on the map).
 */
(function () {
  "use strict";
  if (!window.L) {
    return;
  }
  var COLOURS = {
    station: "#0b4a8b", hospital: "#c8102e", shelter: "#16a34a", depot: "#7c3aed",
    "unit-available": "#1a7f37", "unit-out_of_service": "#6b7280",
  };
  var CENTRE = [36.45, 115.95];

  function counties(map, url) {
    if (!url) {
      return;
    }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (fc) {
        if (fc) {
          L.geoJSON(fc.features.filter(function (f) { return !f.properties || f.properties.valid_to == null; }), {
            style: { color: "#0b4a8b", weight: 1.2, fillColor: "#dfe9f5", fillOpacity: 0.35 }, interactive: false,
          }).addTo(map);
        }
      })
      .catch(function () { /* decoration only */ });
  }

  var listEl = document.getElementById("resource-map");
  var dataEl = document.getElementById("resource-points");
  if (listEl && dataEl) {
    var points = JSON.parse(dataEl.textContent || "[]");
    var map = L.map(listEl, { attributionControl: false, minZoom: 7, maxZoom: 18 }).setView(CENTRE, 9);
    counties(map, listEl.dataset.countiesUrl);
    var bounds = [];
    points.forEach(function (p) {
      var ll = [p.lat, p.lon];
      bounds.push(ll);
      var colour = COLOURS[p.kind] || (p.kind.indexOf("unit-") === 0 ? "#d97706" : "#334155");
      var marker = L.circleMarker(ll, { radius: 6, color: "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.95 });
      var div = document.createElement("div");
      var a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.name;
      div.appendChild(a);
      var info = document.createElement("div");
      info.className = "small";
      info.textContent = p.info;
      div.appendChild(info);
      marker.bindPopup(div);
      marker.addTo(map);
    });
    if (bounds.length === 1) {
      map.setView(bounds[0], 14);
    } else if (bounds.length > 1) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 15 });
    }
    document.body.dataset.resourcesShown = String(points.length);
  }

  var pickEl = document.getElementById("pick-map");
  if (pickEl) {
    var lonEl = document.getElementById(pickEl.dataset.lon);
    var latEl = document.getElementById(pickEl.dataset.lat);
    var datumEl = document.getElementById(pickEl.dataset.datum);
    var pick = L.map(pickEl, { attributionControl: false, minZoom: 7, maxZoom: 18 }).setView(CENTRE, 9);
    counties(pick, pickEl.dataset.countiesUrl);
    var marker = null;
    var place = function (lat, lon, recentre) {
      var ll = [lat, lon];
      if (marker) {
        marker.setLatLng(ll);
      } else {
        marker = L.circleMarker(ll, { radius: 8, color: "#fff", weight: 2, fillColor: "#c8102e", fillOpacity: 1 }).addTo(pick);
      }
      if (recentre) {
        pick.setView(ll, 14);
      }
    };
    if (lonEl && latEl && lonEl.value && latEl.value && (!datumEl || datumEl.value === "gcj02")) {
      place(Number(latEl.value), Number(lonEl.value), true);
    }
    pick.on("click", function (event) {
      lonEl.value = event.latlng.lng.toFixed(6);
      latEl.value = event.latlng.lat.toFixed(6);
      if (datumEl) {
        datumEl.value = "gcj02";
      }
      place(event.latlng.lat, event.latlng.lng, false);
    });
  }
}());
