/* The desk's only script file: pages carry data, not inline code (the CSP allows no inline script
   without a nonce). Charts: {% plotly figure "id" %} writes the figure as JSON plus a
   <div data-plotly="id">; this draws each one. Forms: data-confirm asks first, data-autosubmit
   submits a form when a field changes. */
(function () {
  "use strict";
  function drawCharts() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-plotly]").forEach(function (el) {
      var source = document.getElementById(el.dataset.plotly);
      if (!source) { return; }
      var fig = JSON.parse(source.textContent);
      if (typeof fig === "string") { fig = JSON.parse(fig); }
      var config = Object.assign({displayModeBar: false, displaylogo: false, responsive: true}, fig.config || {});
      Plotly.newPlot(el, fig.data || [], fig.layout || {}, config);
    });
  }
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) { event.preventDefault(); }
  });
  document.addEventListener("change", function (event) {
    var el = event.target.closest("[data-autosubmit]");
    if (el && el.form) { el.form.submit(); }
  });
  window.opsdesk = {drawCharts: drawCharts};
  drawCharts();
})();
