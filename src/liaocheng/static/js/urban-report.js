/*
 * 数字聊城 – supervisor report page (phone first). Class picker (major filters minor), location from the device
 * (navigator.geolocation: WGS84, sent with datum=wgs84) or a tap on the map (GCJ-02), photos.
 * The form is sent with fetch; when the network fails the draft (with photos as data URLs when small enough)
 * is kept in localStorage and retried on "online" and every 20 s, showing "未发送，将自动重试".
 * The server answers with an HTML fragment (the new case and any duplicates with a "follow this case" button).
 */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) {
    return;
  }
  var S = document.getElementById("report-strings").dataset;
  var statusEl = document.getElementById("report-status");
  var resultEl = document.getElementById("report-result");
  var KEY = "liaocheng.urban.reportDraft";
  var MAX_DRAFT_PHOTO_BYTES = 3 * 1024 * 1024;
  var lonEl = document.getElementById("lon");
  var latEl = document.getElementById("lat");
  var datumEl = document.getElementById("datum");
  var locText = document.getElementById("location-text");
  var retryTimer = null;

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text || "";
  }

  // --- class picker: the major filters the minor classes ---------------------------------------------
  var major = document.getElementById("major");
  var minor = document.getElementById("class_code");
  major.addEventListener("change", function () {
    Array.prototype.forEach.call(minor.options, function (opt) {
      if (!opt.value) {
        return;
      }
      opt.hidden = Boolean(major.value) && opt.dataset.major !== major.value;
    });
    var selected = minor.options[minor.selectedIndex];
    if (selected && selected.hidden) {
      minor.value = "";
    }
  });

  // --- location -------------------------------------------------------------------------------------
  var map = null;
  var place = null;
  var mapEl = document.getElementById("report-map");
  if (window.L && window.LiaochengMap && mapEl) {
    map = LiaochengMap.create(mapEl, { zoom: 10 }).map;
    place = LiaochengMap.pin(map);
    map.on("click", function (event) {
      setPoint(event.latlng.lng, event.latlng.lat, "gcj02");
    });
  }

  function setPoint(lon, lat, datum) {
    lonEl.value = Number(lon).toFixed(6);
    latEl.value = Number(lat).toFixed(6);
    datumEl.value = datum;
    locText.textContent = (datum === "wgs84" ? S.located : S.picked) + " " + lonEl.value + ", " + latEl.value;
    if (place) {
      // WGS84 differs from the map by a few hundred metres: centred on for orientation only
      place([Number(lat), Number(lon)], datum === "gcj02" ? null : 16);
    }
  }

  document.getElementById("locate-me").addEventListener("click", function () {
    if (!navigator.geolocation) {
      locText.textContent = S.noGeo;
      return;
    }
    locText.textContent = S.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      setPoint(pos.coords.longitude, pos.coords.latitude, "wgs84");
    }, function () {
      locText.textContent = S.noGeo;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // --- drafts ---------------------------------------------------------------------------------------
  function fileToDataURL(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve({ name: file.name, type: file.type, data: reader.result }); };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
  }

  function dataURLToFile(p) {
    var parts = p.data.split(",");
    var bin = atob(parts[1]);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      bytes[i] = bin.charCodeAt(i);
    }
    return new File([bytes], p.name, { type: p.type });
  }

  function collect() {
    var files = Array.prototype.slice.call(document.getElementById("photos").files || []);
    var total = files.reduce(function (n, f) { return n + f.size; }, 0);
    var fields = {};
    ["class_code", "lon", "lat", "datum", "address", "description"].forEach(function (name) {
      fields[name] = form.elements[name].value;
    });
    if (form.elements.component_code) {
      fields.component_code = form.elements.component_code.value;  // a census component picked (optional)
    }
    var photos = total <= MAX_DRAFT_PHOTO_BYTES ? Promise.all(files.map(fileToDataURL)) : Promise.resolve(null);
    return photos.then(function (list) {
      return { fields: fields, photos: list || [], photosDropped: list === null && files.length > 0, files: files };
    });
  }

  function saveDraft(draft) {
    try {
      localStorage.setItem(KEY, JSON.stringify({ fields: draft.fields, photos: draft.photos,
        photosDropped: draft.photosDropped, savedAt: Date.now() }));
    } catch (e) {
      localStorage.setItem(KEY, JSON.stringify({ fields: draft.fields, photos: [], photosDropped: true,
        savedAt: Date.now() }));
    }
  }

  function loadDraft() {
    try {
      return JSON.parse(localStorage.getItem(KEY) || "null");
    } catch (e) {
      return null;
    }
  }

  function send(draft) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    Object.keys(draft.fields).forEach(function (k) { data.append(k, draft.fields[k]); });
    var files = draft.files && draft.files.length ? draft.files : (draft.photos || []).map(dataURLToFile);
    files.forEach(function (f) { data.append("photos", f, f.name); });
    setStatus("sending", S.sending);
    return fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-Urban-Report": "1" },
    }).then(function (response) {
      if (response.status >= 500) {
        throw new Error("HTTP " + response.status);  // a server hiccup: keep the draft, retry
      }
      return response.text().then(function (html) {
        localStorage.removeItem(KEY);
        stopRetry();
        resultEl.innerHTML = html;
        if (response.ok) {
          setStatus("sent", S.sent);
          form.reset();
          form.hidden = true;
          resultEl.scrollIntoView();
        } else {
          setStatus("idle", "");
        }
      });
    });
  }

  function offline(draft) {
    saveDraft(draft);
    setStatus("offline", draft.photosDropped ? S.offlinePhotos : S.offline);
    if (!retryTimer) {
      retryTimer = window.setInterval(retry, 20000);
    }
  }

  function stopRetry() {
    if (retryTimer) {
      window.clearInterval(retryTimer);
      retryTimer = null;
    }
  }

  function retry() {
    var draft = loadDraft();
    if (!draft) {
      stopRetry();
      return;
    }
    send(draft).catch(function () { offline(draft); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!lonEl.value || !latEl.value) {
      setStatus("error", S.needLocation);
      locText.textContent = S.needLocation;
      return;
    }
    collect().then(function (draft) {
      return send(draft).catch(function () { offline(draft); });
    });
  });
  window.addEventListener("online", retry);

  var existing = loadDraft();
  if (existing) {
    Object.keys(existing.fields || {}).forEach(function (k) {
      if (form.elements[k]) {
        form.elements[k].value = existing.fields[k];
      }
    });
    if (existing.fields && existing.fields.lon) {
      setPoint(existing.fields.lon, existing.fields.lat, existing.fields.datum || "gcj02");
    }
    setStatus("offline", S.offline);
    retryTimer = window.setInterval(retry, 20000);
    retry();
  }
})();
