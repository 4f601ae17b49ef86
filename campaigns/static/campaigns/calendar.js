/* The calendar's drag-and-drop: an entry dropped on another day asks the server to move the activity by
   the days between them (POST to the entry's data-move URL). The entry shows on the new day at once; a
   refused move puts it back and says why; a done one redraws the grid from the page (no reload), so an
   activity of several days sits on all its new days. Without this script the calendar is as it was:
   every entry is a link to the activity, whose Edit form changes its days (the keyboard's way). */
(function () {
  "use strict";
  const table = document.querySelector("table.cal[data-csrf]");
  if (!table) return;
  const messages = document.getElementById("cal-messages");
  const hint = document.getElementById("cal-drag-hint");
  if (hint) hint.hidden = false;
  let dragged = null;

  function say(text, isError) {
    const item = document.createElement("li");
    item.textContent = text;
    if (isError) item.className = "error";
    messages.replaceChildren(item);
  }
  function dayOf(node) {
    return node instanceof Element ? node.closest("td[data-date]") : null;
  }
  function unmark() {
    table.querySelectorAll("td.drop-target").forEach(function (td) { td.classList.remove("drop-target"); });
  }
  function redraw() {
    return fetch(window.location.href, {credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("table.cal");
        if (fresh) table.innerHTML = fresh.innerHTML;
      });
  }

  table.addEventListener("dragstart", function (event) {
    const entry = event.target instanceof Element ? event.target.closest("a[data-move]") : null;
    if (!entry) return;
    dragged = {entry: entry, from: dayOf(entry).dataset.date};
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", entry.href);
  });
  table.addEventListener("dragend", function () { dragged = null; unmark(); });
  table.addEventListener("dragover", function (event) {
    const day = dayOf(event.target);
    if (!dragged || !day) return;
    event.preventDefault();  // lets it drop here
    event.dataTransfer.dropEffect = "move";
    if (!day.classList.contains("drop-target")) { unmark(); day.classList.add("drop-target"); }
  });
  table.addEventListener("drop", function (event) {
    const day = dayOf(event.target);
    const move = dragged;
    if (!move || !day) return;
    event.preventDefault();
    dragged = null;
    unmark();
    if (day.dataset.date === move.from) return;
    const home = move.entry.parentNode, next = move.entry.nextSibling;
    day.appendChild(move.entry);
    const body = new URLSearchParams({from: move.from, to: day.dataset.date, start: move.entry.dataset.start});
    fetch(move.entry.dataset.move, {method: "POST", body: body, credentials: "same-origin",
                                    headers: {"X-CSRFToken": table.dataset.csrf}})
      .then(function (response) {
        return response.json().catch(function () {
          return {error: "The move was refused (HTTP " + response.status + ")."};
        });
      })
      .then(function (answer) {
        if (answer.error) {
          home.insertBefore(move.entry, next);  // snaps back
          say(answer.error, true);
          return null;
        }
        say(answer.message, false);
        redraw().catch(function () { say(answer.message + " Reload to see all its days.", false); });
        return null;
      })
      .catch(function () {
        home.insertBefore(move.entry, next);
        say("The move did not reach the server; nothing changed.", true);
      });
  });
})();
