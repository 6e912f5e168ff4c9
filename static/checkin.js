/* Check-in without a page reload: each form posts with fetch and its row shows the new state.
   Without JavaScript (or when fetch fails) the forms post and the page comes back at the row. */
(function () {
  "use strict";

  function replace(block, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    block.replaceWith(fresh);
    var button = fresh.querySelector("button");
    if (button) { button.focus(); }
    return fresh;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("checkin-form") || !window.fetch) { return; }
    event.preventDefault();
    var block = form.closest("[data-checkin]");
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    form.querySelectorAll("button").forEach(function (button) { button.disabled = true; });
    fetch(form.action, {method: "POST", body: data, credentials: "same-origin",
                        headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.headers.get("Content-Type") || response.headers.get("Content-Type").indexOf("json") < 0) {
          throw new Error("not JSON");
        }
        return response.json();
      })
      .then(function (answer) {
        var fresh = replace(block, answer.html);
        if (answer.error) {
          var message = fresh.querySelector(".attendance");
          message.textContent = answer.error;
          message.classList.add("error");
        }
      })
      .catch(function () {
        // Post the form the ordinary way: the page comes back at this row with the outcome.
        form.querySelectorAll("button").forEach(function (button) { button.disabled = false; });
        if (submitter && submitter.name) {
          var hidden = document.createElement("input");
          hidden.type = "hidden";
          hidden.name = submitter.name;
          hidden.value = submitter.value;
          form.appendChild(hidden);
        }
        form.submit();
      });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
}());
