/* costbridge console: the Applied Actuals pop-up and the Sync Expenses progress (no CDN). */
(function () {
  "use strict";

  function openPopup(url) {
    var body = document.getElementById("cb-popup-body");
    if (!body) { return; }
    body.textContent = "Loading…";
    window.jQuery("#cb-popup").modal("show");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        body.innerHTML = html;
        var inner = body.querySelector(".cb-popup");
        if (inner) { document.getElementById("cb-popup-title").textContent = inner.getAttribute("data-title"); }
      })
      .catch(function () { body.textContent = "Could not load the actuals; try again."; });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-popup]");
    if (link) {
      event.preventDefault();
      openPopup(link.getAttribute("data-popup"));
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-popup-search]");
    if (form) {
      event.preventDefault();
      var q = form.querySelector("input[name=q]").value;
      var url = form.getAttribute("data-popup-search");
      openPopup(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q));
    }
  });

  function watch(box) {
    var url = box.getAttribute("data-watch-run");
    box.innerHTML = '<div class="progress cb-progress"><div class="progress-bar progress-bar-striped progress-bar-animated cb-progress-full" role="progressbar">Syncing expenses…</div></div><span class="small cb-progress-words"></span>';
    function poll() {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (run) {
          var words = box.querySelector(".cb-progress-words");
          words.textContent = " " + run.state.replace("_", " ") + (run.progress ? " · " + run.progress + " record(s) read" : "");
          if (run.finished) {
            box.setAttribute("data-finished", run.state);
            var target = new URL(window.location.href);
            target.searchParams.delete("run");
            window.location.replace(target.toString());
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  }

  var box = document.querySelector("[data-watch-run]");
  if (box) { watch(box); }
})();
