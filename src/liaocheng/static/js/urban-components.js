/*
 * 数字聊城 – the component census (部件) on the urban maps. Load after leaflet.js and before urban.js /
 * urban-report.js: it registers a Leaflet init hook to reach the maps those scripts create.
 *
 * - Command centre (#command-map): a toggleable layer (#layer-components) reading
 *   /urban/components/data.geojson?bbox=... for the visible extent when zoomed in far enough.
 * - Supervisor's report page (#component-picker): once the location is known (device or map), the nearby
 *   components are listed (and drawn on the map); picking one fills the hidden component_code, the class
 *   and the point (the component's own, GCJ-02). Nothing changes when no component is picked.
 * Progress for tests: body[data-components-loaded] (number shown).
 */
(function () {
  "use strict";
  if (!window.L) {
    return;
  }
  var maps = {};
  L.Map.addInitHook(function () {
    var id = this.getContainer().id;
    if (id) {
      maps[id] = this;
    }
  });
  var MAJOR_COLOURS = { "01": "#0369a1", "02": "#c2410c", "03": "#15803d", "04": "#4d7c0f", "05": "#7e22ce", "06": "#475569" };

  function colour(classCode) {
    return MAJOR_COLOURS[String(classCode || "").slice(1, 3)] || "#475569";
  }

  function marker(f, latlng) {
    var bad = f.status === "damaged" || f.status === "missing";
    return L.circleMarker(latlng, {
      radius: 4, weight: bad ? 2 : 1, color: bad ? "#dc2626" : "#fff", fillColor: colour(f.class_code), fillOpacity: 0.9,
    });
  }

  function whenMap(id, fn) {
    // the maps are made by the scripts after this one: they exist once the document is parsed
    if (maps[id]) {
      fn(maps[id]);
    } else {
      document.addEventListener("DOMContentLoaded", function () {
        if (maps[id]) {
          fn(maps[id]);
        }
      });
    }
  }

  // --- command centre: the component layer ------------------------------------------------------------
  var toggle = document.getElementById("layer-components");
  if (toggle) {
    var S = toggle.dataset;
    var statusEl = document.getElementById("layer-components-status");
    var MIN_ZOOM = Number(S.minZoom || 14);
    whenMap("command-map", function (map) {
      var layer = L.layerGroup();
      var seq = 0;

      function load() {
        if (!toggle.checked) {
          return;
        }
        if (map.getZoom() < MIN_ZOOM) {
          layer.clearLayers();
          statusEl.textContent = S.zoom;
          return;
        }
        var b = map.getBounds();
        var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); });
        var mine = ++seq;
        fetch(S.url + "?bbox=" + bbox.join(","), { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
          .then(function (r) {
            if (!r.ok) {
              throw new Error("HTTP " + r.status);
            }
            return r.json();
          })
          .then(function (fc) {
            if (mine !== seq) {
              return;
            }
            layer.clearLayers();
            fc.features.forEach(function (f) {
              var p = f.properties;
              var m = marker(p, [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
              var div = document.createElement("div");
              var a = document.createElement("a");
              a.href = S.detailUrl.replace("CODE", encodeURIComponent(p.code));
              a.className = "mono";
              a.textContent = p.code;
              div.appendChild(a);
              var info = document.createElement("div");
              info.className = "small";
              info.textContent = p.class_code + " " + p.class_name + (p.name ? " · " + p.name : "") + " · " + p.status_label;
              div.appendChild(info);
              m.bindPopup(div);
              m.addTo(layer);
            });
            statusEl.textContent = (fc.truncated ? S.truncated : S.shown).replace("{n}", String(fc.features.length));
            document.body.dataset.componentsLoaded = String(fc.features.length);
          })
          .catch(function () { statusEl.textContent = S.failed; });
      }

      toggle.addEventListener("change", function () {
        if (toggle.checked) {
          layer.addTo(map);
          load();
        } else {
          map.removeLayer(layer);
          statusEl.textContent = "";
        }
      });
      map.on("moveend", load);
      if (toggle.checked) {
        layer.addTo(map);
        load();
      }
    });
  }

  // --- report page: pick the exact component ------------------------------------------------------------
  var picker = document.getElementById("component-picker");
  var codeEl = document.getElementById("component_code");
  if (!picker || !codeEl) {
    return;
  }
  var P = picker.dataset;
  var form = document.getElementById("report-form");
  var list = document.getElementById("component-options");
  var pickedEl = document.getElementById("component-picked");
  var locText = document.getElementById("location-text");
  var lonEl = document.getElementById("lon");
  var latEl = document.getElementById("lat");
  var datumEl = document.getElementById("datum");
  var classEl = document.getElementById("class_code");
  var majorEl = document.getElementById("major");
  var lastKey = "";
  var nearLayer = null;
  var found = [];

  function key() {
    return [lonEl.value, latEl.value, datumEl.value].join(",");
  }

  function showPicked() {
    var c = null;
    found.forEach(function (f) {
      if (f.code === codeEl.value) {
        c = f;
      }
    });
    Array.prototype.forEach.call(list.querySelectorAll("li"), function (li) {
      li.classList.toggle("picked", Boolean(codeEl.value) && li.dataset.component === codeEl.value);
    });
    pickedEl.textContent = codeEl.value ? P.picked + " " + codeEl.value + (c ? "（" + c.class_code + " " + c.class_name + "）" : "") : "";
  }

  function pick(c) {
    codeEl.value = c.code;
    if (classEl && classEl.querySelector('option[value="' + c.class_code + '"]')) {
      if (majorEl && majorEl.value) {
        majorEl.value = "";
        majorEl.dispatchEvent(new Event("change"));
      }
      classEl.value = c.class_code;
    }
    lonEl.value = Number(c.lon).toFixed(6);
    latEl.value = Number(c.lat).toFixed(6);
    datumEl.value = "gcj02";
    lastKey = key();  // the location text changes below: not a new place, keep the list
    locText.textContent = P.at + " " + c.code + " " + lonEl.value + ", " + latEl.value;
    showPicked();
  }

  function clearPick() {
    codeEl.value = "";
    showPicked();
  }

  function render(data) {
    found = data.components || [];
    list.textContent = "";
    picker.hidden = false;
    if (nearLayer) {
      nearLayer.clearLayers();
    }
    if (!found.length) {
      var none = document.createElement("li");
      none.className = "muted small";
      none.textContent = P.none;
      list.appendChild(none);
    }
    found.forEach(function (c) {
      var li = document.createElement("li");
      li.dataset.component = c.code;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small button-light";
      button.textContent = P.choose;
      button.addEventListener("click", function () { pick(c); });
      li.appendChild(button);
      li.appendChild(document.createTextNode(" " + c.class_code + " " + c.class_name + (c.name ? " · " + c.name : "") +
        " · " + Math.round(c.distance_m) + " m · " + c.status_label + " "));
      var code = document.createElement("span");
      code.className = "mono small muted";
      code.textContent = c.code;
      li.appendChild(code);
      list.appendChild(li);
      if (nearLayer) {
        marker(c, [c.lat, c.lon]).on("click", function () { pick(c); }).bindTooltip(c.class_name + " " + c.code)
          .addTo(nearLayer);
      }
    });
    if (found.length) {
      var clear = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "button button-small button-light";
      b.textContent = P.clear;
      b.addEventListener("click", clearPick);
      clear.appendChild(b);
      list.appendChild(clear);
    }
    if (codeEl.value && !found.some(function (c) { return c.code === codeEl.value; })) {
      codeEl.value = "";  // moved away from the picked component
    }
    showPicked();
    document.body.dataset.componentsLoaded = String(found.length);
  }

  function load() {
    if (!lonEl.value || !latEl.value || key() === lastKey) {
      return;
    }
    lastKey = key();
    var params = new URLSearchParams({ lon: lonEl.value, lat: latEl.value, datum: datumEl.value || "gcj02",
      radius: P.radius || "50" });
    fetch(P.url + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then(render)
      .catch(function () {
        picker.hidden = false;
        list.textContent = "";
        pickedEl.textContent = P.failed;
      });
  }

  whenMap("report-map", function (map) {
    nearLayer = L.layerGroup().addTo(map);
  });
  new MutationObserver(load).observe(locText, { childList: true, characterData: true, subtree: true });
  if (form) {
    form.addEventListener("reset", function () {
      codeEl.value = "";
      lastKey = "";
      found = [];
      list.textContent = "";
      pickedEl.textContent = "";
      picker.hidden = true;
      if (nearLayer) {
        nearLayer.clearLayers();
      }
    });
  }
  load();
})();
