/* The desk's only script file: pages carry data, not inline code (the CSP allows no inline script
   without a nonce). Charts: {% plotly figure "id" %} writes the figure as JSON plus a
   <div data-plotly="id">; this draws each one. Forms: data-confirm asks first, data-autosubmit
   submits a form when a field changes, data-product-search suggests products as one types,
   data-live-preview refreshes a form's preview as one types, data-fill-text puts a saved answer in a
   Text back form's text, data-sms-counter counts that text's characters as one types. A table that
   scrolls sideways can be reached with the keyboard. */
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
  /* A saved answer picked in a Text back form fills its text, which the operator may still edit; the list has no
     name, so it is never posted. It is hidden until this script runs: without it the operator types. */
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-fill-text]");
    var text = select && document.getElementById(select.dataset.fillText);
    if (!text || !select.value) { return; }
    text.value = select.value;
    text.focus();
    countSms(text);
  });
  /* The counter under a Text back box (data-sms-counter, written by the server for the page's words) follows the
     text as one types or picks a saved answer, counted as the send counts (members/texts.py sms_length): GSM-7 with
     the server's alphabet (an extension character takes two), else UCS-2 (an emoji takes two); one text holds 160,
     or 70. Beyond that it warns in words; the send still refuses it with its own. */
  function countSms(box) {
    var counter = document.querySelector('[data-sms-counter="' + box.id + '"]');
    if (!counter) { return; }
    var basic = JSON.parse(counter.dataset.gsm7), extension = JSON.parse(counter.dataset.gsm7Extension);
    var chars = Array.from(box.value), gsm = chars.every(function (ch) {
      return basic.indexOf(ch) >= 0 || extension.indexOf(ch) >= 0;
    });
    var units = chars.reduce(function (sum, ch) {
      return sum + (gsm ? (extension.indexOf(ch) >= 0 ? 2 : 1) : (ch.codePointAt(0) > 0xFFFF ? 2 : 1));
    }, 0);
    var limit = gsm ? 160 : 70, tooLong = units > limit;
    counter.textContent = tooLong ? "Too long for one text: " + units + " / " + limit + " \u2014 shorten it"
      : units + " / " + limit + " characters \u00b7 1 SMS";
    counter.classList.toggle("sms-too-long", tooLong);
    counter.classList.toggle("muted", !tooLong);
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("textarea[aria-describedby]")) { countSms(event.target); }
  });
  /* A form with data-live-preview="id" asks the server for its preview as one types (the Preview button's
     own request, preview=1) and puts the answer's element of that id in place of the page's; an answer
     overtaken by a later one is dropped. */
  var previews = new WeakMap();
  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-live-preview]");
    if (!form) { return; }
    var state = previews.get(form) || {asked: 0};
    previews.set(form, state);
    clearTimeout(state.timer);
    state.timer = setTimeout(function () {
      var asked = ++state.asked, data = new FormData(form);
      data.set("preview", "1");
      fetch(form.action || window.location.href, {method: "POST", body: data, credentials: "same-origin"})
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var target = document.getElementById(form.dataset.livePreview);
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(form.dataset.livePreview);
          if (asked === state.asked && target && fresh) { target.innerHTML = fresh.innerHTML; }
        });
    }, 300);
  });
  /* A product field (SKU or title typed in; a textarea takes one a line) names the search URL: the page
     carries no product list, so the matches of what is typed, in the form's store, fill a <datalist>.
     A textarea gets a search box above it; a picked suggestion is added to it as a new line. */
  function suggestProducts(field) {
    var single = field.tagName === "INPUT";
    var box = single ? field : document.createElement("input");
    var list = document.createElement("datalist");
    var asked = "";
    list.id = field.id + "-suggestions";
    field.after(list);
    if (!single) {
      box.type = "search";
      box.placeholder = "Search by SKU or title to add";
      box.setAttribute("aria-label", "Search products to add");
      field.before(box, document.createElement("br"));
    }
    box.setAttribute("list", list.id);
    box.addEventListener("input", function () {
      var text = box.value.trim();
      var picked = Array.prototype.some.call(list.options, function (o) { return o.value === box.value; });
      if (picked && !single) {
        field.value = (field.value.trim() ? field.value.trim() + "\n" : "") + box.value;
        box.value = "";
        return;
      }
      if (picked || !text || text === asked) { return; }
      asked = text;
      var store = field.form && field.form.elements.store;
      var query = new URLSearchParams({q: text, store: store ? store.value : ""});
      fetch(field.dataset.productSearch + "?" + query, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : {products: []}; })
        .then(function (data) {
          list.replaceChildren.apply(list, data.products.map(function (p) {
            var option = document.createElement("option");
            option.value = p.value;
            option.label = p.store;
            return option;
          }));
        });
    });
  }
  /* A table wider than the screen scrolls sideways in its .table-wrap (on a phone, mostly): such a wrap is made a
     tab stop, so a keyboard user can reach its hidden columns with the arrow keys (WCAG 2.1.1); one that fits is
     not, so as not to add a stop for nothing. Checked again when the wrap or its table changes size (a turned phone,
     a live refresh). */
  function focusableWhenScrolling(wrap) {
    if (wrap.scrollWidth > wrap.clientWidth) { wrap.tabIndex = 0; } else { wrap.removeAttribute("tabindex"); }
  }
  var resized = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { focusableWhenScrolling(entry.target.closest(".table-wrap")); });
  });
  document.querySelectorAll(".table-wrap").forEach(function (wrap) {
    focusableWhenScrolling(wrap);
    resized.observe(wrap);
    if (wrap.firstElementChild) { resized.observe(wrap.firstElementChild); }
  });
  document.querySelectorAll("[data-product-search]").forEach(suggestProducts);
  document.querySelectorAll("[data-saved-answers]").forEach(function (el) { el.hidden = false; });
  window.opsdesk = {drawCharts: drawCharts};
  drawCharts();
})();
