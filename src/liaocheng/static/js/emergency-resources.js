/*
 * 数字聊城 – emergency resources: the list's map (stations, units or fixed resources of the current filters, from
 * the JSON in #resource-points) and the forms' point picker (a click sets the GCJ-02 longitude/latitude inputs).
 * Leaflet without online tiles: county outlines from our own OGC API (liaocheng-map.js). Progress for tests:
 * body[data-resources-shown] (markers on the map).
 */
(function () {
  "use strict";
  if (!window.L || !window.LiaochengMap) {
    return;
  }
  var COLOURS = {
    station: "#0b4a8b", hospital: "#c8102e", shelter: "#16a34a", depot: "#7c3aed",
    "unit-available": "#1a7f37", "unit-out_of_service": "#6b7280",
  };
  var OUTLINES = { outlineStyle: { fillOpacity: 0.35 } };

  var listEl = document.getElementById("resource-map");
  var dataEl = document.getElementById("resource-points");
  if (listEl && dataEl) {
    var points = JSON.parse(dataEl.textContent || "[]");
    var map = LiaochengMap.create(listEl, OUTLINES).map;
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
    var pick = LiaochengMap.create(pickEl, OUTLINES).map;
    var pin = LiaochengMap.pin(pick);
    var place = function (lat, lon, recentre) {
      pin([lat, lon], recentre ? 14 : null);
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
