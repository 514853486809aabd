// The card payment page: mount Stripe's card element, confirm the
// PaymentIntent the server made for the invoice (Stripe.js, never our
// server, sees the card), then wait for Stripe's webhook to mark the invoice
// paid. Everything it needs comes in data attributes: no inline script.
(function () {
  "use strict";

  const POLL_EVERY = 2000;
  const POLL_FOR = 3 * 60 * 1000;

  // Ask the status URL until the invoice is paid (or give up politely).
  function waitForPaid(box) {
    const url = box.getAttribute("data-status-url");
    const message = box.querySelector(".payment-message");
    const started = Date.now();
    const tick = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data && data.paid) {
            message.textContent = data.message;
            box.setAttribute("data-paid", "");
            const amount = document.getElementById("amount-due");
            if (amount) { amount.textContent = data.amount_due; }
            return;
          }
          next();
        })
        .catch(next);
    };
    const next = function () {
      if (Date.now() - started > POLL_FOR) {
        message.textContent = box.getAttribute("data-slow-message");
        return;
      }
      window.setTimeout(tick, POLL_EVERY);
    };
    window.setTimeout(tick, 1000);
  }

  function mountCard(form) {
    const button = document.getElementById("card-submit");
    const errors = document.getElementById("card-errors");
    const done = document.getElementById("payment-done");
    const label = button.textContent;
    const showError = function (text) { errors.textContent = text || ""; };

    if (typeof window.Stripe !== "function") {
      showError(form.getAttribute("data-load-error"));
      return;
    }
    const stripe = window.Stripe(form.getAttribute("data-publishable-key"), {
      locale: form.getAttribute("data-locale") || "fr",
    });
    const card = stripe.elements().create("card", { hidePostalCode: true });
    card.mount("#card-element");
    card.on("change", function (event) {
      showError(event && event.error ? event.error.message : "");
    });
    form.setAttribute("data-mounted", "");
    button.disabled = false;

    let busy = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) { return; }
      busy = true;
      button.disabled = true;
      button.textContent = form.getAttribute("data-busy-label");
      showError("");
      const again = function (text) {
        showError(text || form.getAttribute("data-error-message"));
        busy = false;
        button.disabled = false;
        button.textContent = label;
      };
      stripe
        .confirmCardPayment(form.getAttribute("data-client-secret"), { payment_method: { card: card } })
        .then(function (result) {
          if (result.error) {
            again(result.error.message);
            return;
          }
          const status = result.paymentIntent && result.paymentIntent.status;
          if (status === "succeeded" || status === "processing") {
            form.closest("section").hidden = true;
            done.hidden = false;
            waitForPaid(done);
          } else {
            again();
          }
        })
        .catch(function () { again(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("card-payment");
    if (form) {
      mountCard(form);
      return;
    }
    const waiting = document.querySelector("#payment-done[data-waiting]");
    if (waiting) { waitForPaid(waiting); }
  });
})();
