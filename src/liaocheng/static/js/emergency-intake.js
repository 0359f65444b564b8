/*
 * 数字聊城 – emergency call-taker console. A click on the map (GCJ-02) or typed coordinates (a device fix in
 * WGS84, or GCJ-02) set the call's point; the open incidents near it are then fetched as an HTML fragment
 * (radio buttons "并入 YJ…") into #nearby. The type filter narrows the GB/T 35561 type picker.
 * Leaflet without online tiles: the county outlines come from our own OGC API (set up by liaocheng-map.js).
 */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) {
    return;
  }
  var S = document.getElementById("intake-strings").dataset;
  var lonEl = document.getElementById("lon");
  var latEl = document.getElementById("lat");
  var datumEl = document.getElementById("datum");
  var sourceEl = document.getElementById("location_source");
  var locText = document.getElementById("location-text");
  var nearbyEl = document.getElementById("nearby");
  var mapEl = document.getElementById("intake-map");
  var map = null;
  var place = null;
  var seq = 0;

  // The call is answered when the call-taker starts on the form, not when the console page was loaded
  // (a console left open would otherwise inflate answer-to-dispatch times). The time is the server's
  // clock at page load plus the time elapsed here, so a wrong clock on this PC does not matter.
  var answeredEl = document.getElementById("answered_at");
  var loadedAt = Date.now();
  function markAnswered() {
    if (!answeredEl || !answeredEl.dataset.serverNow) {
      return;
    }
    var base = Date.parse(answeredEl.dataset.serverNow);
    if (!isNaN(base)) {
      answeredEl.value = new Date(base + (Date.now() - loadedAt)).toISOString();
    }
    delete answeredEl.dataset.serverNow;
  }
  form.addEventListener("focusin", markAnswered);
  form.addEventListener("input", markAnswered);

  function loadNearby() {
    if (!lonEl.value || !latEl.value) {
      return;
    }
    var mine = ++seq;
    nearbyEl.textContent = S.loading;
    var params = new URLSearchParams({ lon: lonEl.value, lat: latEl.value, datum: datumEl.value });
    fetch(mapEl.dataset.nearbyUrl + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (mine === seq) {
          nearbyEl.innerHTML = html;
          document.body.dataset.nearbyLoaded = String(nearbyEl.querySelectorAll("[data-incident]").length);
        }
      })
      .catch(function () { nearbyEl.textContent = S.failed; });
  }

  function showPoint(lon, lat, datum, recentre) {
    locText.textContent = (datum === "wgs84" ? S.located : S.picked) + " " + lon + ", " + lat;
    if (!map) {
      return;
    }
    // typed or device coordinates are centred on (a WGS84 fix is shown a few hundred metres off)
    place([Number(lat), Number(lon)], recentre ? 15 : null);
  }

  if (window.L && window.LiaochengMap && mapEl) {
    map = LiaochengMap.create(mapEl).map;
    place = LiaochengMap.pin(map);
    map.on("click", function (event) {
      lonEl.value = event.latlng.lng.toFixed(6);
      latEl.value = event.latlng.lat.toFixed(6);
      datumEl.value = "gcj02";
      if (sourceEl.value === "device" || sourceEl.value === "") {
        sourceEl.value = "map";
      }
      showPoint(lonEl.value, latEl.value, "gcj02", false);
      loadNearby();
    });
  }

  document.getElementById("use-coords").addEventListener("click", function () {
    if (datumEl.value === "wgs84" && sourceEl.value !== "address") {
      sourceEl.value = "device";
    }
    showPoint(lonEl.value, latEl.value, datumEl.value, true);
    loadNearby();
  });

  if (lonEl.value && latEl.value) {  // the form came back with an error: show the point again
    showPoint(lonEl.value, latEl.value, datumEl.value, true);
    loadNearby();
  }

  var filter = document.getElementById("type-filter");
  var select = document.getElementById("incident_type");
  filter.addEventListener("input", function () {
    var q = filter.value.trim().toUpperCase();
    Array.prototype.forEach.call(select.querySelectorAll("option"), function (opt) {
      if (opt.value) {
        opt.hidden = Boolean(q) && opt.textContent.toUpperCase().indexOf(q) < 0;
      }
    });
  });
}());
