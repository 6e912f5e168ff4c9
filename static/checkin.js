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

  // Check-in by reference: the answer shows beside the field, the party's row takes its new state,
  // and the field is empty again for the next scan (a scanner types the reference, then Enter).
  var desk = document.querySelector("[data-reference-checkin]");
  if (desk && window.fetch) {
    var field = desk.querySelector("input[name=reference]");
    var outcome = document.querySelector("[data-outcome]");
    desk.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(desk);
      field.value = "";
      fetch(desk.action, {method: "POST", body: data, credentials: "same-origin",
                          headers: {"Accept": "application/json"}})
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("json") < 0) { throw new Error("not JSON"); }
          return response.json();
        })
        .then(function (answer) {
          outcome.textContent = answer.message;
          outcome.className = "checkin-outcome outcome-" + answer.outcome;
          var row = answer.row && document.getElementById(answer.row);
          if (row && answer.html) {
            var block = row.querySelector("[data-checkin]");
            if (block) { replace(block, answer.html); }
            row.classList.add("just-arrived");
          }
          field.focus();
        })
        .catch(function () {
          field.value = data.get("reference");
          desk.submit();
        });
    });

    // A camera and the Barcode Detection API: the "Scan" button reads the QR code on a phone.
    var scan = desk.querySelector("[data-scan]");
    var view = document.querySelector("[data-scan-view]");
    if (scan && view && "BarcodeDetector" in window && navigator.mediaDevices &&
        navigator.mediaDevices.getUserMedia) {
      window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") < 0) { return; }
        var detector = new window.BarcodeDetector({formats: ["qr_code"]});
        var stream = null;
        var video = null;
        var stop = function () {
          if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
          stream = null;
          view.hidden = true;
          view.textContent = "";
          scan.setAttribute("aria-pressed", "false");
        };
        var look = function () {
          if (!stream) { return; }
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              field.value = codes[0].rawValue;
              stop();
              desk.requestSubmit();
            } else {
              window.setTimeout(look, 200);
            }
          }).catch(function () { window.setTimeout(look, 400); });
        };
        scan.hidden = false;
        scan.setAttribute("aria-pressed", "false");
        scan.addEventListener("click", function () {
          if (stream) { stop(); field.focus(); return; }
          navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
            .then(function (camera) {
              stream = camera;
              video = document.createElement("video");
              video.muted = true;
              video.setAttribute("playsinline", "");
              video.srcObject = camera;
              view.appendChild(video);
              view.hidden = false;
              scan.setAttribute("aria-pressed", "true");
              return video.play();
            })
            .then(look)
            .catch(stop);
        });
      });
    }
  }

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
}());
