/* /manager/reports: one GET /api/v1/reports/data per query; tiles, tables, a heat map and
   Chart.js charts; the export links carry the same query. */
(function () {
  "use strict";
  var M = window.Manager, T = M.T;
  var charts = {};
  var COLORS = ["#1e7b34", "#4c8fd6", "#b3121d", "#e0a100", "#6b4fbb", "#5b6b7c"];
  // rating levels best to worst: greens to reds; "not rated" grey (it is not an opinion)
  var LEVEL_COLORS = { very_satisfied: "#1e7b34", satisfied: "#7cb342", neutral: "#e0a100",
                       dissatisfied: "#e65100", very_dissatisfied: "#b3121d", not_rated: "#9e9e9e" };

  /* the level codes present, in the server's order (best to worst, "not rated" last) */
  function levelCodes(r) {
    var present = Object.keys(r.ratings.by_level);
    var order = (r.level_order || []).filter(function (c) { return present.indexOf(c) >= 0; });
    return order.concat(present.filter(function (c) { return order.indexOf(c) < 0; }));
  }

  function clear(el) { while (el.firstChild) { el.removeChild(el.firstChild); } return el; }

  function pair(a, b) { return M.num(a, 1) + " / " + M.num(b, 1); }

  function tiles(r) {
    var s = r.summary;
    M.setText("report-period", M.showDate(r.period.from) + " – " + M.showDate(r.period.to));
    M.setText("r-issued", M.num(s.issued));
    M.setText("r-served", M.num(s.served));
    M.setText("r-missed", M.num(s.missed));
    M.setText("r-transferred", M.num(s.transferred));
    M.setText("r-wait", pair(s.avg_wait_minutes, s.p90_wait_minutes));
    M.setText("r-service", pair(s.avg_service_minutes, s.p90_service_minutes));
    M.setText("r-target", M.num(r.target_wait_minutes));
    M.setText("r-service-level", M.pct(s.service_level));
    M.setText("r-satisfaction", M.pct(r.ratings.satisfaction_rate));
    M.setText("r-on-time", r.dossiers ? M.pct(r.dossiers.on_time_rate) : "—");
  }

  function breakdown(dim, rows) {
    var body = clear(document.getElementById("breakdown-" + dim));
    if (!rows.length) {
      var tr = document.createElement("tr");
      M.cell(tr, T.no_data).colSpan = 10;
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      M.cell(tr, row.name);
      [row.issued, row.served, row.missed, row.transferred].forEach(function (v) { M.cell(tr, M.num(v), "num"); });
      [row.avg_wait_minutes, row.p90_wait_minutes, row.avg_service_minutes, row.p90_service_minutes]
        .forEach(function (v) { M.cell(tr, M.num(v, 1), "num"); });
      M.cell(tr, M.pct(row.service_level), "num");
      body.appendChild(tr);
    });
  }

  function heatmap(matrix) {
    var table = clear(document.getElementById("heatmap"));
    var hours = [];
    var max = 0;
    for (var h = 0; h < 24; h++) {
      var any = matrix.some(function (row) { return row[h] > 0; });
      if (any || (h >= 7 && h <= 17)) { hours.push(h); }
    }
    matrix.forEach(function (row) { row.forEach(function (v) { if (v > max) { max = v; } }); });
    var head = document.createElement("tr");
    head.appendChild(document.createElement("th"));
    hours.forEach(function (hour) {
      var th = document.createElement("th");
      th.textContent = hour + "h";
      head.appendChild(th);
    });
    table.appendChild(head);
    matrix.forEach(function (row, day) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = T.weekdays[day];
      tr.appendChild(th);
      hours.forEach(function (hour) {
        var td = M.cell(tr, row[hour] ? M.num(row[hour]) : "", "heat");
        var level = max ? row[hour] / max : 0;
        td.style.backgroundColor = "rgba(179, 18, 29, " + (0.06 + level * 0.85).toFixed(2) + ")";
        td.style.color = level > 0.55 ? "#fff" : "";
        td.setAttribute("data-weekday", day);
        td.setAttribute("data-hour", hour);
      });
      table.appendChild(tr);
    });
  }

  function ratingsTable(report) {
    var r = report.ratings, labels = report.level_labels;
    var body = clear(document.getElementById("ratings-table"));
    var codes = levelCodes(report);
    if (!codes.length) {
      var empty = document.createElement("tr");
      M.cell(empty, T.no_data);
      body.appendChild(empty);
    }
    codes.forEach(function (code) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = labels[code] || code;
      tr.setAttribute("data-level", code);
      tr.appendChild(th);
      M.cell(tr, M.num(r.by_level[code]), "num");
      body.appendChild(tr);
    });
  }

  function dossiers(d) {
    var keys = { "d-received": "received", "d-finished": "finished", "d-early": "early", "d-on-time": "on_time",
                 "d-late": "late", "d-overdue": "overdue", "d-apologies": "apologies" };
    Object.keys(keys).forEach(function (id) { M.setText(id, d ? M.num(d[keys[id]]) : "—"); });
  }

  // results handed over (trả kết quả): per clerk, then the total; days to one decimal
  function returns(r) {
    var body = document.getElementById("returns-table");
    body.textContent = "";
    (r ? r.by_clerk : []).forEach(function (row) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.textContent = row.name;
      tr.setAttribute("data-clerk", row.id);
      tr.appendChild(th);
      M.cell(tr, M.num(row.returned), "num");
      M.cell(tr, M.num(row.mean_days, 1), "num");
      M.cell(tr, M.num(row.median_days, 1), "num");
      body.appendChild(tr);
    });
    M.setText("ret-returned", r ? M.num(r.returned) : "—");
    M.setText("ret-mean", r ? M.num(r.mean_days, 1) : "—");
    M.setText("ret-median", r ? M.num(r.median_days, 1) : "—");
  }

  // bookings and numbers from a phone per day and field; waits of booked, walk-in and phone citizens
  function bookings(b, waits) {
    var body = document.getElementById("bookings-table");
    body.textContent = "";
    (b ? b.daily : []).forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-date", row.date);
      tr.setAttribute("data-service", row.service_id);
      M.cell(tr, M.showDate(row.date));
      M.cell(tr, row.name);
      [row.made, row.checked_in, row.no_show, row.cancelled, row.remote_tickets]
        .forEach(function (v) { M.cell(tr, M.num(v), "num"); });
      body.appendChild(tr);
    });
    ["made", "checked_in", "no_show", "cancelled", "remote_tickets"].forEach(function (key) {
      M.setText("bk-" + key, b ? M.num(b[key]) : "—");
    });
    ["booked", "walk_in", "remote"].forEach(function (kind) {
      var w = waits ? waits[kind] : null;
      M.setText("wa-" + kind + "-count", w ? M.num(w.count) : "—");
      M.setText("wa-" + kind + "-avg", w ? M.num(w.avg_wait_minutes, 1) : "—");
      M.setText("wa-" + kind + "-p90", w ? M.num(w.p90_wait_minutes, 1) : "—");
    });
  }

  function chart(id, config) {
    if (!window.Chart) { return; }
    if (charts[id]) { charts[id].destroy(); }
    charts[id] = new window.Chart(document.getElementById(id), config);
  }

  function drawCharts(r) {
    var days = r.daily;
    chart("chart-daily", { type: "line", data: {
      labels: days.map(function (d) { return M.showDate(d.date).slice(0, 5); }),
      datasets: [{ label: T.issued, data: days.map(function (d) { return d.issued; }), borderColor: COLORS[1] },
                 { label: T.served, data: days.map(function (d) { return d.served; }), borderColor: COLORS[0] }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false } });
    var fields = r.breakdown.service.filter(function (row) { return row.avg_wait_minutes !== null; });
    chart("chart-wait", { type: "bar", data: {
      labels: fields.map(function (row) { return row.name; }),
      datasets: [{ label: T.avg_wait, data: fields.map(function (row) { return row.avg_wait_minutes; }), backgroundColor: COLORS[1] },
                 { label: T.p90_wait, data: fields.map(function (row) { return row.p90_wait_minutes; }), backgroundColor: COLORS[2] }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false } });
    var codes = levelCodes(r);
    chart("chart-ratings", { type: "doughnut", data: {
      labels: codes.map(function (c) { return r.level_labels[c] || c; }),
      datasets: [{ data: codes.map(function (c) { return r.ratings.by_level[c]; }),
                   backgroundColor: codes.map(function (c, i) { return LEVEL_COLORS[c] || COLORS[i % COLORS.length]; }) }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false } });
  }

  function exportLinks(q) {
    ["xlsx", "csv", "pdf"].forEach(function (format) {
      var p = new URLSearchParams(q);
      p.set("format", format);
      document.getElementById("export-" + format).href = "/api/v1/reports/export?" + p.toString();
    });
  }

  function query(q) {
    return M.getJSON("/api/v1/reports/data?" + q.toString()).then(function (r) {
      var explicit = new URLSearchParams(q);
      explicit.delete("preset"); explicit.delete("anchor"); explicit.delete("basis");
      explicit.set("from", r.period.from); explicit.set("to", r.period.to);
      exportLinks(explicit);
      tiles(r);
      ["service", "counter", "clerk"].forEach(function (dim) { breakdown(dim, r.breakdown[dim]); });
      heatmap(r.heatmap);
      ratingsTable(r);
      dossiers(r.dossiers);
      returns(r.returns);
      bookings(r.bookings, r.waits_by_arrival);
      drawCharts(r);
      return r.period;
    });
  }

  new M.PeriodForm(query).start();
}());
