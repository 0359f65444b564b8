/*
 * 数字聊城 – macro-economy charts (ECharts from our own static files, data from /api/economy/...).
 *
 * A bar chart of the counties for the chosen period and a line chart over time for the chosen divisions.
 * The form reloads the page without JavaScript; with it, changes redraw the charts in place.
 * <body data-charts-ready="1"> once both charts are drawn (tests, monitoring).
 */
(function () {
  "use strict";

  var box = document.getElementById("economy-charts");
  if (!box || !window.echarts) {
    return;
  }
  var S = JSON.parse(document.getElementById("economy-strings").textContent);
  var form = document.getElementById("chart-form");
  var status = document.getElementById("chart-status");
  var valuesUrl = box.dataset.valuesUrl;
  var decimals = Number(box.dataset.decimals || 2);
  var bar = window.echarts.init(document.getElementById("chart-bar"));
  var line = window.echarts.init(document.getElementById("chart-line"));
  var COLOURS = ["#0b4a8b", "#c8102e", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#be185d", "#4d7c0f", "#a16207"];

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : m;
    });
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      });
  }

  function indicatorName(ind) {
    return S.lang === "en" && ind.name_en ? ind.name_en : ind.name_zh;
  }

  function unitName(ind) {
    return S.lang === "en" && ind.unit_en ? ind.unit_en : ind.unit_zh;
  }

  function selectedPeriod() {
    var select = form && form.elements.period;
    return select ? select.value : "";
  }

  function selectedDivisions() {
    if (!form) {
      return [];
    }
    return Array.prototype.filter.call(form.querySelectorAll("input[name=divisions]"), function (input) {
      return input.checked;
    }).map(function (input) { return input.value; });
  }

  function tooltipValue(value) {
    return value == null ? "—" : Number(value).toLocaleString(undefined, {
      minimumFractionDigits: decimals, maximumFractionDigits: decimals,
    });
  }

  function anyGenerated(series) {
    return series.some(function (s) {
      return s.points.some(function (p) { return p.generated; });
    });
  }

  function drawBar(period) {
    var counties = (box.dataset.counties || "").split(",").filter(Boolean);
    var url = valuesUrl + "?from=" + encodeURIComponent(period) + "&to=" + encodeURIComponent(period)
      + "&division=" + encodeURIComponent(counties.join(","));
    return getJSON(url).then(function (data) {
      var names = [];
      var values = [];
      data.series.forEach(function (s) {
        var point = s.points[0];
        var code = point ? point.division_code : s.division_code;
        names.push(S.names[code] || s.division_name);
        values.push(point ? point.value : null);
      });
      var ind = data.indicator;
      bar.setOption({
        color: COLOURS,
        title: { text: fmt(S.barTitle, { period: period, name: indicatorName(ind) }), left: "center",
                 textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", valueFormatter: tooltipValue },
        grid: { left: 8, right: 16, bottom: 8, top: 48, containLabel: true },
        xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", name: unitName(ind) },
        series: [{ type: "bar", data: values, name: indicatorName(ind), barMaxWidth: 36 }],
      }, true);
      return { empty: values.every(function (v) { return v == null; }), generated: anyGenerated(data.series) };
    });
  }

  function drawLine(divisions) {
    var url = valuesUrl + "?division=" + encodeURIComponent(divisions.join(","));
    return getJSON(url).then(function (data) {
      var periods = {};
      data.series.forEach(function (s) {
        s.points.forEach(function (p) { periods[p.period] = true; });
      });
      var axis = Object.keys(periods).sort();
      var ind = data.indicator;
      line.setOption({
        color: COLOURS,
        title: { text: fmt(S.lineTitle, { name: indicatorName(ind) }), left: "center", textStyle: { fontSize: 14 } },
        tooltip: { trigger: "axis", valueFormatter: tooltipValue },
        legend: { bottom: 0, type: "scroll" },
        grid: { left: 8, right: 16, bottom: 36, top: 48, containLabel: true },
        xAxis: { type: "category", data: axis, boundaryGap: false },
        yAxis: { type: "value", name: unitName(ind), scale: true },
        series: data.series.map(function (s) {
          var byPeriod = {};
          s.points.forEach(function (p) { byPeriod[p.period] = p.value; });
          return {
            type: "line", name: S.names[s.division_code] || s.division_name, smooth: false, connectNulls: true,
            data: axis.map(function (period) { return byPeriod[period] == null ? null : byPeriod[period]; }),
          };
        }),
      }, true);
      return { empty: axis.length === 0, generated: anyGenerated(data.series) };
    });
  }

  function redraw() {
    var period = selectedPeriod();
    var divisions = selectedDivisions();
    status.textContent = S.loading;
    document.body.dataset.chartsReady = "0";
    Promise.all([
      period ? drawBar(period) : Promise.resolve({ empty: true, generated: false }),
      divisions.length ? drawLine(divisions) : Promise.resolve({ empty: true, generated: false }),
    ])
      .then(function (results) {
        var notes = [];
        if (results[0].empty) {
          notes.push(S.empty);
        }
        if (results[0].generated || results[1].generated) {
          notes.push(S.generated);
        }
        status.textContent = notes.join(" · ");
        document.body.dataset.chartsReady = "1";
      })
      .catch(function (error) {
        status.textContent = S.failed;
        document.body.dataset.chartsError = String(error);
      });
  }

  if (form) {
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "indicator") {
        form.submit();  // another indicator: another page
        return;
      }
      redraw();
    });
  }
  window.addEventListener("resize", function () {
    bar.resize();
    line.resize();
  });
  redraw();
})();
