/* cxloop charts: every <div class="chart" data-option='{...}'> becomes an ECharts chart.
 * The option is built in Python (the same numbers as the API); this file only draws it.
 * ECharts is vendored (/static/vendor/echarts.min.js) and loaded on the first page that has a
 * chart, so pages without charts never fetch its 1.1 MB. Charts that HTMX swaps in are drawn
 * too (a MutationObserver, independent of htmx's event names), and resize with the window. */
(function () {
  "use strict";
  var SRC = "/static/vendor/echarts.min.js";
  var loading = null;
  var drawn = [];

  function loadEcharts() {
    if (window.echarts) return Promise.resolve(window.echarts);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = SRC;
        script.onload = function () { resolve(window.echarts); };
        script.onerror = function () { reject(new Error("could not load " + SRC)); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function draw(echarts, el) {
    if (el.dataset.chartDrawn) return;
    var option;
    try {
      option = JSON.parse(el.dataset.option);
    } catch (err) {
      el.textContent = "Chart data is not valid JSON";
      el.classList.add("chart-error");
      return;
    }
    el.dataset.chartDrawn = "1";
    if (!option.aria) option.aria = { enabled: true };  // a text description for screen readers
    if (option.animation === undefined) option.animation = false;
    var lang = (document.documentElement.lang || "zh").slice(0, 2) === "en" ? "EN" : "ZH";
    var chart = echarts.init(el, null, { renderer: "svg", locale: lang });
    chart.setOption(option);
    drawn.push(chart);
    el.dispatchEvent(new CustomEvent("cxloop:chart-drawn", { bubbles: true }));
  }

  function drawAll(root) {
    var nodes = (root || document).querySelectorAll(".chart[data-option]");
    if (!nodes.length) return;
    loadEcharts().then(function (echarts) {
      nodes.forEach(function (el) { draw(echarts, el); });
    }, function (err) {
      nodes.forEach(function (el) { el.classList.add("chart-error"); });
      throw err;
    });
  }

  function forgetRemoved() {
    drawn = drawn.filter(function (chart) {
      if (document.body.contains(chart.getDom())) return true;
      chart.dispose();
      return false;
    });
  }

  function start() {
    drawAll(document);
    new MutationObserver(function (mutations) {
      var added = mutations.some(function (m) { return m.addedNodes.length > 0; });
      var removed = mutations.some(function (m) { return m.removedNodes.length > 0; });
      if (removed) forgetRemoved();
      if (added) drawAll(document);
    }).observe(document.body, { childList: true, subtree: true });
    window.addEventListener("resize", function () {
      drawn.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
