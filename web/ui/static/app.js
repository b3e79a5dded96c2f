// bowline's web UI: progressive enhancement only. Every page works without
// this script; with it, times show in local time, filters apply as they
// change, pages update themselves when runs change (server-sent events from
// /events), and a running job's log streams in.
(function () {
  "use strict";

  // Times: the page says UTC; show local time, keep UTC in the tooltip.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) { return; }
      t.title = t.textContent;
      t.textContent = d.toLocaleString();
    });
  }

  // Filters: a changed select applies at once; the button stays for
  // keyboards and for text fields.
  function autoSubmit() {
    document.querySelectorAll("form.filters select").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
  }

  // Forms that ask before they act (abort).
  function confirms() {
    document.addEventListener("submit", function (e) {
      var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
      if (msg && !window.confirm(msg)) { e.preventDefault(); }
    });
  }

  // A link to a line folded away opens its fold.
  function showTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) { return; }
    var el = document.getElementById(id);
    if (!el) { return; }
    for (var p = el.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") { p.open = true; }
    }
    el.scrollIntoView({ block: "center" });
  }

  function withFragment(name) {
    var q = new URLSearchParams(location.search);
    q.set("fragment", name);
    return location.pathname + "?" + q.toString();
  }

  // Live parts: elements with data-fragment are fetched again when runs
  // change, unless the reader paused updates.
  function live() {
    if (!document.body.hasAttribute("data-live") || !window.EventSource) { return; }
    var parts = Array.prototype.slice.call(document.querySelectorAll("[data-fragment]"));
    if (!parts.length) { return; }
    var paused = false, busy = false, again = false;
    var src = "/events";
    var log = document.getElementById("log");
    if (log) {
      // A run's page listens to its run only.
      var m = location.pathname.match(/^\/runs\/([^/]+)\/([^/]+)$/);
      if (m) { src += "?run=" + encodeURIComponent(decodeURIComponent(m[1]) + "/" + decodeURIComponent(m[2])); }
    }
    var bar = document.createElement("p");
    bar.className = "minor live";
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "link";
    btn.id = "pause";
    btn.textContent = "Pause live updates";
    btn.setAttribute("aria-pressed", "false");
    btn.addEventListener("click", function () {
      paused = !paused;
      btn.setAttribute("aria-pressed", String(paused));
      btn.textContent = paused ? "Resume live updates" : "Pause live updates";
      if (!paused) { refresh(); }
    });
    bar.appendChild(document.createTextNode("This page updates itself. "));
    bar.appendChild(btn);
    // Below the page's heading: after the first live part when it holds
    // the heading (a run's page), before it otherwise.
    if (parts[0].querySelector("h1")) {
      parts[0].parentNode.insertBefore(bar, parts[0].nextSibling);
    } else {
      parts[0].parentNode.insertBefore(bar, parts[0]);
    }

    function refresh() {
      if (paused) { return; }
      if (busy) { again = true; return; }
      busy = true;
      Promise.all(parts.map(function (el) {
        return fetch(withFragment(el.getAttribute("data-fragment")), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html === null) { return; }
            el.innerHTML = html;
            localTimes(el);
            var done = el.querySelector("[data-complete]") || el;
            if (el.id === "run-header") { runChanged(el); }
            return done;
          });
      })).catch(function () {}).then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
    }
    var es = new EventSource(src);
    es.addEventListener("change", refresh);
  }

  // The header of a run's page was fetched again: if the run has ended
  // meanwhile, say so; the log stream ends by itself.
  var endedTold = false;
  function runChanged(header) {
    var h1 = header.querySelector("h1");
    var log = document.getElementById("log");
    if (!log || endedTold || !h1) { return; }
    var state = h1.querySelector(".state");
    if (state && /success|failure|aborted|error/.test(state.className)) {
      endedTold = true;
      var st = document.getElementById("log-status");
      if (st) {
        st.textContent = "The run has ended. ";
        var a = document.createElement("a");
        a.href = location.pathname;
        a.textContent = "Reload for its test results and files";
        st.appendChild(a);
      }
      streamLog(true);
    }
  }

  // The log of a running job: fetched from where the page ends, a piece at
  // a time, until the run ends.
  var streaming = false;
  function streamLog(now) {
    var log = document.getElementById("log");
    if (!log || log.getAttribute("data-complete") === "true") { return; }
    var follow = document.getElementById("follow");
    if (follow) { follow.parentElement.hidden = false; }
    if (streaming && !now) { return; }
    streaming = true;
    function next(delay) { setTimeout(poll, delay); }
    function poll() {
      var q = new URLSearchParams({
        offset: log.getAttribute("data-offset"),
        line: log.getAttribute("data-line"),
        file: log.getAttribute("data-file") || ""
      });
      fetch(log.getAttribute("data-src") + "?" + q.toString(), { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.text().then(function (html) {
          if (r.headers.get("X-Log-Reset") === "true") { log.innerHTML = ""; }
          if (html) {
            var none = document.getElementById("nolog");
            if (none) { none.remove(); }
            var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
            log.insertAdjacentHTML("beforeend", html);
            if (follow && follow.checked && atEnd) { log.scrollTop = log.scrollHeight; }
          }
          log.setAttribute("data-offset", r.headers.get("X-Next-Offset") || log.getAttribute("data-offset"));
          log.setAttribute("data-line", r.headers.get("X-Next-Line") || log.getAttribute("data-line"));
          if (r.headers.get("X-Log-File")) { log.setAttribute("data-file", r.headers.get("X-Log-File")); }
          if (r.headers.get("X-Run-Complete") === "true") {
            log.setAttribute("data-complete", "true");
            streaming = false;
            return;
          }
          next(html.length > 200000 ? 0 : 1000);
        });
      }).catch(function () { next(5000); });
    }
    poll();
  }

  function start() {
    localTimes(document);
    autoSubmit();
    confirms();
    showTarget();
    window.addEventListener("hashchange", showTarget);
    live();
    var log = document.getElementById("log");
    if (log) {
      streamLog(false);
      if (log.getAttribute("data-complete") === "false" && !location.hash) { log.scrollTop = log.scrollHeight; }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
