// PILOT panorama: sorting and searching the list of projects.
// Without JavaScript the full table stays readable; nothing here is required.
(function () {
  "use strict";
  var table = document.getElementById("projets-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var headers = table.tHead.rows[0].cells;

  function cellValue(row, index, type) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (type === "number") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw.toLocaleLowerCase("fr");
  }

  function sortBy(index, type, button) {
    var header = headers[index];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = cellValue(a, index, type), y = cellValue(b, index, type);
      if (x === y) { return 0; }
      if (x === null) { return 1; }   // unknown values always last
      if (y === null) { return -1; }
      var order = type === "number" ? x - y : x.localeCompare(y, "fr");
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
    button.setAttribute("aria-label", header.dataset.label + (ascending ? ", trié par ordre croissant" : ", trié par ordre décroissant"));
  }

  Array.prototype.forEach.call(headers, function (header, index) {
    var type = header.getAttribute("data-sort");
    if (!type) { return; }
    var label = header.textContent.trim();
    header.dataset.label = label;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "pilot-sort";
    button.textContent = label;
    button.setAttribute("title", "Trier par " + label.toLocaleLowerCase("fr"));
    button.addEventListener("click", function () { sortBy(index, type, button); });
    header.textContent = "";
    header.appendChild(button);
  });

  var form = document.querySelector(".pilot-search");
  var input = document.getElementById("recherche-projet");
  var status = document.getElementById("recherche-statut");
  if (!form || !input) { return; }
  form.hidden = false;
  var timer = null;
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var words = input.value.toLocaleLowerCase("fr").normalize("NFD").replace(/[\u0300-\u036f]/g, "").split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLocaleLowerCase("fr").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      status.textContent = shown + (shown > 1 ? " projets affichés" : " projet affiché") + " sur " + rows.length + ".";
    }, 150);
  });
}());
