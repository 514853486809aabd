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

// Invoice lines: "Ajouter une ligne" copies the page's <template> row with
// the next free index; "Retirer" takes a row out (the server ignores empty
// rows, so without JavaScript the spare empty rows do the same job).
function setUpLines(form) {
  const body = form.querySelector("[data-lines]");
  const template = form.querySelector("template[data-line-template]");
  const add = form.querySelector("[data-add-line]");
  if (!body || !template || !add) { return; }
  let next = parseInt(body.getAttribute("data-next-index"), 10) || body.children.length;
  const showRemove = function (row) {
    row.querySelectorAll("[data-remove-line]").forEach(function (button) { button.hidden = false; });
  };
  body.querySelectorAll("[data-line]").forEach(showRemove);
  add.hidden = false;
  add.addEventListener("click", function () {
    const html = template.innerHTML.replace(/__index__/g, String(next));
    next += 1;
    body.insertAdjacentHTML("beforeend", html);
    const row = body.lastElementChild;
    showRemove(row);
    const first = row.querySelector("input:not([type=hidden])");
    if (first) { first.focus(); }
  });
  body.addEventListener("click", function (event) {
    const button = event.target.closest("[data-remove-line]");
    if (!button) { return; }
    const row = button.closest("[data-line]");
    if (body.querySelectorAll("[data-line]").length > 1) {
      row.remove();
    } else {
      row.querySelectorAll("input:not([type=hidden])").forEach(function (input) { input.value = ""; });
    }
  });
}

// A "select all" box: <input type=checkbox data-check-all="name"> ticks every
// checkbox named `name` in its form; its label is hidden until this runs.
function setUpCheckAll(box) {
  const form = box.form;
  const name = box.getAttribute("data-check-all");
  const label = box.closest("[data-check-all-label]");
  if (label) { label.hidden = false; }
  box.addEventListener("change", function () {
    form.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (input) {
      input.checked = box.checked;
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form").forEach(function (form) {
    if (form.querySelector("template[data-line-template]")) { setUpLines(form); }
  });
  document.querySelectorAll("input[data-check-all]").forEach(setUpCheckAll);
});
