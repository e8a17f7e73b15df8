/* /manager/staffing: GET /api/v1/reports/staffing; one table per field, hour by hour, with the
   hours short of counters marked. */
(function () {
  "use strict";
  var M = window.Manager, T = M.T;
  var meta = JSON.parse(document.getElementById("staffing-meta").textContent);
  var holder = document.getElementById("staffing-fields");
  var template = document.getElementById("staffing-field");

  function field(row) {
    var node = template.content.cloneNode(true);
    node.querySelector(".sf-name").textContent = row.name;
    node.querySelector(".sf-meta").textContent = M.num(row.days) + " " + meta.days + " · " + meta.mean + " " +
      M.num(row.mean_service_minutes, 1) + " " + T.minutes + (row.service_time_measured ? "" : " " + meta["default"]);
    var body = node.querySelector("tbody");
    if (!row.hours.length) {
      var empty = document.createElement("tr");
      M.cell(empty, T.no_data).colSpan = 6;
      body.appendChild(empty);
    }
    row.hours.forEach(function (h) {
      var tr = document.createElement("tr");
      if (h.open + 0.05 < h.needed) { tr.className = "short"; }
      M.cell(tr, h.hour + "h–" + (h.hour + 1) + "h");
      M.cell(tr, M.num(h.arrivals_per_hour, 1), "num");
      M.cell(tr, M.num(h.traffic, 2), "num");
      M.cell(tr, M.num(h.needed), "num needed");
      M.cell(tr, M.num(h.open, 1), "num");
      M.cell(tr, M.num(h.expected_wait_minutes, 1), "num");
      body.appendChild(tr);
    });
    return node;
  }

  function query(q) {
    return M.getJSON("/api/v1/reports/staffing?" + q.toString()).then(function (r) {
      M.setText("report-period", M.showDate(r.period.from) + " – " + M.showDate(r.period.to));
      M.setText("s-target", M.num(r.target_wait_minutes));
      while (holder.firstChild) { holder.removeChild(holder.firstChild); }
      r.services.forEach(function (row) { holder.appendChild(field(row)); });
      return r.period;
    });
  }

  new M.PeriodForm(query).start();
}());
