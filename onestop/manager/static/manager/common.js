/* Shared helpers of the manager pages: texts, Vietnamese number and date formats, the API,
   and the report period form (presets, dd/mm/yyyy inputs). */
(function () {
  "use strict";
  var textsEl = document.getElementById("manager-texts");
  var T = textsEl ? JSON.parse(textsEl.textContent) : {};
  var lang = document.documentElement.getAttribute("lang") || "vi";
  var nf = {};

  /* Half away from zero on the number's shortest decimal text (String(), which is Python's
     repr()): the rule of onestop/textsort.round_half_up, so that a page and its XLSX, CSV
     and PDF exports show the same 2,3 for 2.25 (Intl.NumberFormat alone rounds the binary
     value, Python's format() half to even). */
  function roundHalfUp(value, decimals) {
    var d = decimals || 0;
    var sign = value < 0 ? -1 : 1;
    var text = String(Math.abs(value));
    if (/e/i.test(text)) { return sign * Number(Math.abs(value).toFixed(d)); }
    var parts = text.split(".");
    var frac = parts[1] || "";
    if (frac.length <= d) { return value; }
    var scaled = Number(parts[0] + frac.slice(0, d)) + (frac.charAt(d) >= "5" ? 1 : 0);
    return sign * scaled / Math.pow(10, d);
  }

  function num(value, decimals) {
    if (value === null || value === undefined || value === "") { return "—"; }
    var d = decimals || 0;
    if (!nf[d]) { nf[d] = new Intl.NumberFormat("vi-VN", { minimumFractionDigits: d, maximumFractionDigits: d }); }
    return nf[d].format(roundHalfUp(Number(value), d));
  }

  function pct(share) {
    return share === null || share === undefined ? "—" : num(share * 100, 1) + " %";
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* "2026-11-23" -> "23/11/2026" */
  function showDate(iso) {
    if (!iso) { return ""; }
    var p = iso.slice(0, 10).split("-");
    return p[2] + "/" + p[1] + "/" + p[0];
  }

  /* "23/11/2026" -> "2026-11-23", or null */
  function isoDate(text) {
    var m = /^\s*(\d{1,2})\/(\d{1,2})\/(\d{4})\s*$/.exec(text || "");
    if (!m) { return null; }
    var d = new Date(Date.UTC(+m[3], +m[2] - 1, +m[1]));
    if (d.getUTCDate() !== +m[1] || d.getUTCMonth() !== +m[2] - 1) { return null; }
    return m[3] + "-" + pad(+m[2]) + "-" + pad(+m[1]);
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) { throw new Error((body && body.error && body.error.message) || T.error); }
          return body;
        });
      });
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  function setText(id, text) {
    var el = document.getElementById(id);
    if (el) { el.textContent = text; }
  }

  /* The period form: presets fill the dates from the server's answer; submit uses the dates. */
  function PeriodForm(onQuery) {
    var form = document.getElementById("report-form");
    var from = document.getElementById("date-from");
    var to = document.getElementById("date-to");
    var basis = document.getElementById("basis");
    var message = document.getElementById("report-message");
    var filters = ["service-id", "counter-id", "clerk-id"];

    function params(extra) {
      var q = new URLSearchParams(extra || {});
      filters.forEach(function (id) {
        var el = document.getElementById(id);
        if (el && el.value) { q.set(id.replace("-", "_"), el.value); }
      });
      q.set("lang", lang);
      return q;
    }

    function run(extra) {
      message.textContent = "";
      onQuery(params(extra)).then(function (period) {
        if (period) { from.value = showDate(period.from); to.value = showDate(period.to); }
      }).catch(function (err) { message.textContent = err.message || T.error; });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var a = isoDate(from.value), b = isoDate(to.value);
      if (!a || !b) { message.textContent = T.bad_date; return; }
      run({ from: a, to: b });
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-preset]");
      if (!button) { return; }
      var anchor = isoDate(to.value);
      var extra = { preset: button.getAttribute("data-preset"), basis: basis.value };
      if (anchor) { extra.anchor = anchor; }
      run(extra);
    });
    this.start = function () { run({ preset: "month", basis: basis.value }); };
  }

  /* A moment (ISO text with offset) as the unit's wall-clock time, whatever the browser's
     own timezone: the zone comes from the page (the unit's IANA name). */
  var zone = T.timezone || undefined;
  var tf = {};
  function clock(iso, withDate) {
    if (!iso) { return ""; }
    var key = withDate ? "dt" : "t";
    if (!tf[key]) {
      var opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone: zone };
      if (withDate) { opts.day = "2-digit"; opts.month = "2-digit"; opts.year = "numeric"; }
      tf[key] = new Intl.DateTimeFormat("vi-VN", opts);
    }
    return tf[key].format(new Date(iso));
  }

  window.Manager = { T: T, lang: lang, num: num, pct: pct, roundHalfUp: roundHalfUp, clock: clock, zone: zone,
                     showDate: showDate, isoDate: isoDate, getJSON: getJSON, cell: cell, setText: setText, PeriodForm: PeriodForm };
}());
