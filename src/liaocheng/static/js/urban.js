/*
 * 数字聊城 – urban management: the case page's mini map and the command centre's live map (Leaflet, no tiles;
 * GCJ-02 like the data). The command centre reloads its GeoJSON every 15 s (data-refresh) with the filters.
 * Progress for tests: body[data-cases-loaded] (number of features shown).
 */
(function () {
  "use strict";
  if (!window.L || !window.LiaochengMap) {
    return;
  }
  var COLOURS = {
    reported: "#2563eb", filed: "#4f46e5", dispatched: "#d97706", handling: "#ca8a04", handled: "#16a34a",
    verified: "#059669", deferred: "#9333ea",
  };

  var mini = document.getElementById("case-map");
  if (mini) {
    var ll = [Number(mini.dataset.lat), Number(mini.dataset.lon)];
    var m = LiaochengMap.create(mini, { center: ll, zoom: 15, minZoom: null, maxZoom: null, outlines: false }).map;
    LiaochengMap.point(ll).addTo(m);
  }

  var el = document.getElementById("command-map");
  if (!el) {
    return;
  }
  var S = document.getElementById("command-strings").dataset;
  var statusEl = document.getElementById("command-status");
  var list = document.getElementById("command-cases");
  var form = document.getElementById("command-filters");
  var map = LiaochengMap.create(el, {
    center: [36.45, 115.85], attribution: true, outlineStyle: { weight: 1.5, fillOpacity: 0.35 },
  }).map;
  var layer = L.layerGroup().addTo(map);
  var fitted = false;

  function query() {
    var params = new URLSearchParams(new FormData(form));
    return params.toString();
  }

  function render(fc) {
    layer.clearLayers();
    list.textContent = "";
    var bounds = [];
    fc.features.forEach(function (f) {
      var p = f.properties;
      var latlng = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      bounds.push(latlng);
      var colour = p.overdue ? "#dc2626" : (COLOURS[p.state] || "#6b7280");
      var marker = L.circleMarker(latlng, {
        radius: p.overdue ? 8 : 6, color: p.overdue ? "#7f1d1d" : "#fff", weight: 1.5, fillColor: colour, fillOpacity: 0.95,
      });
      var div = document.createElement("div");
      var a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.number;
      div.appendChild(a);
      div.appendChild(document.createTextNode(" " + p.state_label + (p.overdue ? " · " + S.overdue : "")));
      var info = document.createElement("div");
      info.className = "small";
      info.textContent = p["class"] + (p.address ? " · " + p.address : "") + (p.department ? " · " + p.department : "");
      div.appendChild(info);
      marker.bindPopup(div.cloneNode(true));
      marker.addTo(layer);
      var li = document.createElement("li");
      li.dataset.case = String(f.id);
      if (p.overdue) {
        li.className = "overdue";
      }
      var dot = document.createElement("span");
      dot.className = "dot";
      dot.style.background = colour;
      li.appendChild(dot);
      li.appendChild(div);
      li.addEventListener("mouseenter", function () { marker.openPopup(); });
      list.appendChild(li);
    });
    if (!fc.features.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = S.empty;
      list.appendChild(empty);
    }
    if (!fitted && bounds.length) {
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 14 });
      fitted = true;
    }
    var time = new Date().toLocaleTimeString();
    statusEl.textContent = S.updated.replace("{time}", time).replace("{n}", String(fc.features.length));
    document.body.dataset.casesLoaded = String(fc.features.length);
  }

  function refresh() {
    fetch(el.dataset.url + "?" + query(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then(render)
      .catch(function () { statusEl.textContent = S.failed; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fitted = false;
    history.replaceState(null, "", "?" + query());
    refresh();
  });
  form.addEventListener("change", function () {
    fitted = false;
    refresh();
  });
  refresh();
  window.setInterval(refresh, Number(el.dataset.refresh || 15000));
})();
