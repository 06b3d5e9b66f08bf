// Progressive enhancement of the System notifications switches: the form still works
// without JavaScript (POST, then redirect back); with it, the page does not reload.
(function () {
  "use strict";
  function wire(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector(".switch");
      var input = form.querySelector("input[name=enabled]");
      var label = form.querySelector(".switch-label");
      var error = form.querySelector(".switch-error");
      button.disabled = true;
      error.textContent = "";
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "Accept": "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") === -1) {
            // e.g. Django's HTML 403 (permission, expired CSRF token): no JSON to read
            throw new Error((form.dataset.httpError || "Could not switch (HTTP %s). Reload the page and try again.").replace("%s", response.status));
          }
          return response.json().then(function (data) { return { ok: response.ok, data: data }; });
        })
        .then(function (result) {
          if (!result.ok) { throw new Error(result.data.error || form.dataset.error || "Could not switch."); }
          var on = result.data.enabled;
          button.setAttribute("aria-checked", on ? "true" : "false");
          input.value = on ? "off" : "on";
          // The page's language: the labels come from the form (data-on, data-off).
          if (label) { label.textContent = on ? (form.dataset.on || "On") : (form.dataset.off || "Off"); }
          form.closest("[data-event-type]").dataset.enabled = on ? "true" : "false";
        })
        .catch(function (err) { error.textContent = err.message || form.dataset.error || "Could not switch."; })
        .finally(function () { button.disabled = false; });
    });
  }
  function followRecover(box) {
    var url = box.dataset.recoverStatusUrl;
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (!data.job) { return; }
          var bar = box.querySelector("progress");
          bar.max = data.total || 1;
          bar.value = data.status === "done" ? (data.total || 1) : data.done;
          box.querySelector(".recover-counts").textContent = data.done + " / " + data.total;
          box.querySelector(".recover-state").textContent = data.status_display || data.status;
          box.querySelector(".recover-summary").textContent = data.summary;
          box.dataset.status = data.status;
          if (data.status === "queued" || data.status === "running") { setTimeout(poll, 1000); }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 1000);
  }
  // The channel form's payload format: its one-line explanation and an example body follow the select.
  function formatExamples(data) {
    var select = document.querySelector("select[data-format-select]");
    var typeSelect = document.getElementById("format-example-type");
    var body = document.getElementById("format-example-body");
    if (!select || !typeSelect || !body) { return; }
    var help = select.closest(".form-row").querySelector(".help");
    function show() {
      var format = data.formats[select.value] || data.formats[data.current];
      var type = typeSelect.value;
      var found = format.types.filter(function (t) { return t[0] === type; })[0] || format.types[0];
      body.textContent = found ? found[2] : "";
    }
    function refill() {
      var format = data.formats[select.value] || data.formats[data.current];
      var keep = typeSelect.value;
      typeSelect.textContent = "";
      format.types.forEach(function (t) {
        var option = document.createElement("option");
        option.value = t[0];
        option.textContent = t[1];
        if (t[0] === keep) { option.selected = true; }
        typeSelect.appendChild(option);
      });
      if (help) { help.textContent = format.explanation; }
      show();
    }
    select.addEventListener("change", refill);
    typeSelect.addEventListener("change", show);
  }
  // The channel page's test send: the preview shows the chosen type's body.
  function testPreview(select) {
    var source = document.getElementById(select.dataset.testPreview);
    var target = document.getElementById("test-send-preview");
    if (!source || !target) { return; }
    var previews = JSON.parse(source.textContent);
    select.addEventListener("change", function () { target.textContent = previews[select.value] || ""; });
  }
  // Copy buttons beside the delivery page's headers and bodies.
  function copyButton(button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source || !navigator.clipboard) { return; }
      var label = button.textContent;
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = button.dataset.copied || "\u2713";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("button.copy-button[data-copy]").forEach(copyButton);
    document.querySelectorAll("form.switch-form").forEach(wire);
    document.querySelectorAll("select[data-test-preview]").forEach(testPreview);
    var examples = document.getElementById("format-examples");
    if (examples) { formatExamples(JSON.parse(examples.textContent)); }
    document.querySelectorAll("select[data-select-filter]").forEach(function (select) {
      select.addEventListener("change", function () { window.location.search = select.value; });
    });
    // Pages waiting on a worker (a Retry just asked for) refresh themselves until it is done.
    var refresh = document.querySelector("[data-refresh-while-pending]");
    if (refresh) { setTimeout(function () { window.location.reload(); }, 2000); }
    // A recover job's progress bar follows the job while it is queued or running.
    var recover = document.querySelector("[data-recover-status-url]");
    if (recover) { followRecover(recover); }
  });
})();
