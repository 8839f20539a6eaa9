// PILOT panorama: sorting and searching the list of projects.
// Without JavaScript the full table stays readable; nothing here is required.
(function () {
  "use strict";
  var table = document.getElementById("projets-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var headers = table.tHead.rows[0].cells;
  // Severity columns hold ranks (0 = the most severe): ascending is "most severe first".
  var ORDER = {
    severity: [", trié du plus grave au moins grave", ", trié du moins grave au plus grave"],
    number: [", trié par ordre croissant", ", trié par ordre décroissant"],
    text: [", trié par ordre alphabétique", ", trié par ordre alphabétique inverse"]
  };

  function fold(text) {
    return text.toLocaleLowerCase("fr").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[\u2019']/g, " ");
  }

  function cellValue(row, index, type) {
    var cell = row.cells[index];
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (type !== "text") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw.toLocaleLowerCase("fr");
  }

  function sortBy(index, type, button) {
    var header = headers[index];
    var current = header.getAttribute("aria-sort");
    var first = header.getAttribute("data-first") || "ascending";
    var ascending = current === null ? first === "ascending" : current !== "ascending";
    Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    rows.sort(function (a, b) {
      var x = cellValue(a, index, type), y = cellValue(b, index, type);
      if (x === y) { return 0; }
      if (x === null) { return 1; }   // unknown values always last
      if (y === null) { return -1; }
      var order = type === "text" ? x.localeCompare(y, "fr") : x - y;
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
    button.setAttribute("aria-label", header.dataset.label + ORDER[type][ascending ? 0 : 1]);
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
    button.setAttribute("title", "Trier par " + label.toLocaleLowerCase("fr")
      + (type === "severity" ? " (du plus grave au moins grave)" : ""));
    button.addEventListener("click", function () { sortBy(index, type, button); });
    header.textContent = "";
    header.appendChild(button);
  });

  var form = document.querySelector(".pilot-search");
  var input = document.getElementById("recherche-projet");
  var status = document.getElementById("recherche-statut");
  if (!form || !input) { return; }
  form.hidden = false;
  var texts = new Map(rows.map(function (row) {
    return [row, fold(row.textContent + " " + (row.getAttribute("data-search") || ""))];
  }));
  var timer = null;
  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = texts.get(row);
        var match = words.every(function (w) { return text.indexOf(w) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      status.textContent = shown + (shown > 1 ? " projets affichés" : " projet affiché") + " sur " + rows.length + ".";
    }, 150);
  });
}());
