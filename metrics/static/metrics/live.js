/* The live view: redraws the numbers, tables and charts from live.json every few seconds.
   Settings come from the data-* attributes of the #live element (no inline script: CSP). */
(function () {
  "use strict";
  const settings = document.getElementById("live").dataset;
  const jsonUrl = settings.jsonUrl;
  const refreshMs = Number(settings.refreshSeconds) * 1000;
  function setText(id, text, cls) {
    const el = document.getElementById(id);
    if (!el) return;
    if (el.textContent !== text) el.textContent = text;
    if (cls !== undefined) el.className = cls;
  }
  function esc(s) {  // for text and for attributes in double quotes
    const d = document.createElement("span"); d.textContent = s; return d.innerHTML.replace(/"/g, "&quot;");
  }

  // Every figure comes written by the server (metrics/figures.py: the daily pages' words), so the pages cannot
  // drift apart and the script formats nothing: `shown` of the KPI table, each funnel and product row's `shown`.
  function renderKpis(d) {
    for (const name of Object.keys(d.shown.changes)) {
      for (const w of ["today", "yesterday", "last_week"]) {
        setText(`kpi-${name}-${w}`, d.shown.kpis[w][name], "value");
        if (w === "today") continue;
        const c = d.shown.changes[name][w];
        setText(`chg-${name}-${w}`, c.text ? `today ${c.text}` : "", "chg " + (c.text ? c.tone : "muted"));
      }
    }
  }

  function renderFunnel(d) {
    const rows = d.funnel.map((r) => {
      const w = r.shown;
      const why = r.note ? ` title="${esc(r.note)}"` : "";
      const rate = (name) => `<span class="muted"${w[name] === "n/a" ? why : ""}>${esc(w[name])}</span>`;
      return `<tr data-source="${esc(r.source)}"><td>${esc(r.label)}</td>
      <td class="num">${esc(w.sessions)}</td>
      <td class="num">${esc(w.viewed)} ${rate("view_rate")}</td>
      <td class="num">${esc(w.carted)} ${rate("cart_rate")}</td>
      <td class="num">${esc(w.orders)} ${rate("order_rate")}</td>
      <td class="num">${esc(w.orders_per_session)}</td><td class="num">${esc(w.gmv)}</td>
      <td class="num">${esc(w.cost)}</td><td class="num">${esc(w.cost_per_order)}</td></tr>`;
    });
    document.querySelector("#funnel tbody").innerHTML =
      rows.join("") || '<tr><td colspan="9" class="muted">No sessions or orders yet today.</td></tr>';
    // Why a rate reads "n/a": more orders than tracked sessions (orders by phone, a blocked tracker).
    document.getElementById("funnel-notes").innerHTML = d.funnel.filter((r) => r.note)
      .map((r) => `<li>${esc(r.note)}</li>`).join("");
    const steps = ["Sessions", "Viewed a product", "Added to cart", "Orders"];
    const traces = d.funnel.map((r) => ({type: "funnel", name: r.label, y: steps,
      x: [r.sessions, r.viewed, r.carted, r.orders], textinfo: "value"}));
    Plotly.react("chart-funnel", traces, {margin: {t: 10, l: 120, r: 10, b: 30}, funnelmode: "stack",
      legend: {orientation: "h"}}, {displayModeBar: false, responsive: true});
  }

  function renderTop(d) {
    const rows = d.top_products.map((p) => `<tr data-product="${p.product_id}">
      <td><a href="${esc(p.url)}">${esc(p.title)}</a></td>
      <td class="num">${esc(p.shown.views)}</td><td class="num">${esc(p.shown.carts)}</td>
      <td class="num">${esc(p.shown.cart_rate)}</td><td class="num">${esc(p.shown.orders)}</td>
      <td class="num">${esc(p.shown.gmv)}</td></tr>`);
    document.querySelector("#top-products tbody").innerHTML =
      rows.join("") || '<tr><td colspan="6" class="muted">No product activity yet today.</td></tr>';
  }

  function renderHourly(d) {
    const hours = [...Array(24).keys()].map((h) => String(h).padStart(2, "0") + ":00");
    const now = d.hourly.now_hour, part = d.hourly.this_hour;
    // The current hour is not over: drawn apart, beside yesterday's same minutes, so it is not read as a drop.
    const finished = (values) => values.map((v, h) => (h < now ? v : null));
    const soFar = `so far (${String(now).padStart(2, "0")}:00–${String(now).padStart(2, "0")}:${String(part.minutes).padStart(2, "0")})`;
    for (const [el, key] of [["chart-sessions", "sessions"], ["chart-gmv", "gmv"]]) {
      // Eight hour labels do not fit a phone's chart (plotly cut them to "0…"): every sixth hour there.
      const dtick = document.getElementById(el).clientWidth < 480 ? 6 : 3;
      const layout = {margin: {t: 10, l: 50, r: 10, b: 40}, legend: {orientation: "h"}, xaxis: {dtick}};
      Plotly.react(el, [
        {x: hours, y: finished(d.hourly.today[key]), name: "Today", mode: "lines+markers", line: {color: "#1f77b4"}},
        {x: hours, y: d.hourly.yesterday[key], name: "Yesterday", mode: "lines", line: {dash: "dot", color: "#ff7f0e"}},
        {x: [hours[now]], y: [part.today[key]], name: "This hour " + soFar, mode: "markers",
         marker: {color: "#1f77b4", size: 11, symbol: "circle-open", line: {width: 2}}},
        {x: [hours[now]], y: [part.yesterday[key]], name: "Yesterday, same minutes", mode: "markers",
         marker: {color: "#ff7f0e", size: 9, symbol: "diamond-open", line: {width: 2}}},
      ], layout, {displayModeBar: false, responsive: true});
    }
  }

  function renderTracker(d) {
    const el = document.getElementById("tracker");
    el.dataset.state = d.tracker.state;
    setText("tracker", d.tracker.message);
  }

  function render(d) {
    renderKpis(d);
    renderTracker(d);
    renderFunnel(d);
    renderTop(d);
    renderHourly(d);
    const status = document.getElementById("live-status");
    status.dataset.asOf = d.as_of;
    status.className = "live-status";
    status.textContent = `As of ${d.as_of.slice(11, 19)} store time (UTC${d.as_of.slice(19)}) · refreshes every ${refreshMs / 1000} s`;
  }

  let timer, inFlight = false;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, refreshMs);
  }

  async function poll() {
    // One refresh at a time: the one under way draws the fresh numbers and schedules the next. A second
    // (the tab shown again, the timer) would compute another snapshot, and the older answer could be drawn last.
    if (inFlight) return;
    inFlight = true;
    try {
      if (!document.hidden) {
        const response = await fetch(jsonUrl, {headers: {Accept: "application/json"}, cache: "no-store"});
        if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) throw new Error(response.status);
        render(await response.json());
      }
    } catch (err) {
      const status = document.getElementById("live-status");
      status.className = "live-status stale";
      status.textContent = "Could not refresh (" + err.message + "); retrying…";
    } finally {
      inFlight = false;
      schedule();
    }
  }

  // Back on the tab (or the laptop woke up): fetch now rather than show old numbers until the next tick.
  document.addEventListener("visibilitychange", () => { if (!document.hidden) poll(); });
  render(JSON.parse(document.getElementById("live-data").textContent));
  schedule();
})();
