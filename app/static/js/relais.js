// Progressive enhancements only: every page works without this file.
document.addEventListener("submit", function (event) {
  const form = event.target;
  const message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Live status without reloading: an element with data-poll="<url>" asks its
// URL for JSON every two seconds ({"finished": bool, "fields": {name: text},
// "percent": n}); it fills its [data-field=name] children and its
// <progress>, and reloads the page once finished if data-reload is set.
function pollStatus(element) {
  const url = element.getAttribute("data-poll");
  const tick = function () {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        Object.entries(data.fields || {}).forEach(function ([name, text]) {
          element.querySelectorAll('[data-field="' + name + '"]').forEach(function (node) {
            node.textContent = text;
          });
        });
        const bar = element.querySelector("progress");
        if (bar && typeof data.percent === "number") { bar.value = data.percent; }
        if (data.finished) {
          if (element.hasAttribute("data-reload")) { window.location.reload(); }
          return;
        }
        window.setTimeout(tick, 2000);
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  };
  window.setTimeout(tick, 1000);
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-poll]").forEach(pollStatus);
});
