// The supervision board asks for fresh figures every few seconds and updates them in place.
(function () {
  "use strict";
  var script = document.currentScript;
  var seconds = Number(script && script.dataset.refreshSeconds) || 10;

  function setText(root, selector, value) {
    root.querySelectorAll(selector).forEach(function (node) { node.textContent = String(value); });
  }

  function showVans(vans) {
    var body = document.querySelector("[data-vans] tbody");
    if (!body || !vans.length) { return; }
    body.replaceChildren.apply(body, vans.map(function (run) {
      var row = document.createElement("tr");
      [run.van, run.slot, run.trip, run.done + "/" + run.stops, run.failed, run.late,
        run.food_safety_margin_min].forEach(function (value, index) {
        var cell = document.createElement("td");
        if (index >= 2) { cell.className = "num"; }
        cell.textContent = String(value);
        row.appendChild(cell);
      });
      return row;
    }));
  }

  function show(snapshot) {
    Object.keys(snapshot.totals).forEach(function (key) {
      setText(document, '[data-total="' + key + '"]', snapshot.totals[key]);
    });
    setText(document, "[data-late]", snapshot.late_stops);
    setText(document, "[data-updated]", snapshot.at.slice(11, 16));
    snapshot.sites.forEach(function (site) {
      document.querySelectorAll('[data-site="' + site.site_id + '"]').forEach(function (root) {
        ["booked", "served", "delivered", "open_alerts"].forEach(function (key) {
          setText(root, '[data-figure="' + key + '"]', site[key]);
        });
        setText(root, '[data-figure="done"]', site.served + site.delivered);
        var fill = root.querySelector(".served-fill");
        if (fill) {
          fill.style.opacity = site.booked ? (site.served + site.delivered) / site.booked : 0;
        }
      });
    });
    showVans(snapshot.vans);
  }

  function refresh() {
    fetch("/api/v1/board", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (snapshot) { if (snapshot) { show(snapshot); } })
      .catch(function () { /* the next round tries again */ })
      .finally(function () { window.setTimeout(refresh, seconds * 1000); });
  }

  window.setTimeout(refresh, seconds * 1000);
})();
