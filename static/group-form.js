/* The group form offers only what fits. A visit must end by closing time, so a guided tour (2 hours) or a
   two-hour self-guided visit cannot start at 16:00; the length of a self-guided visit shows only for a
   self-guided visit, the tour's language only for a guided tour. Without JavaScript every choice shows,
   and the server explains next to the start time why one does not fit. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-group-form]");
  if (!form) { return; }

  function minutes(text) {
    var parts = text.split(":");
    return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }

  function checked(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : null;
  }

  var closing = minutes(form.getAttribute("data-closing"));
  var guidedMinutes = parseInt(form.getAttribute("data-guided-minutes"), 10);

  function update() {
    var kind = checked("kind") || "guided";
    var length = kind === "guided" ? guidedMinutes : parseInt(checked("duration_minutes") || "120", 10);
    form.querySelectorAll("[data-only-for]").forEach(function (block) {
      block.hidden = block.getAttribute("data-only-for") !== kind;
    });
    form.querySelectorAll("select[data-start-time]").forEach(function (select) {
      var latest = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var fits = minutes(option.value) + length <= closing;
        option.disabled = !fits;
        option.hidden = !fits;
        if (fits) { latest = option; }
      });
      var chosen = select.options[select.selectedIndex];
      if (chosen && chosen.disabled && latest) { latest.selected = true; }  // 16:00 becomes 15:00
    });
  }

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "kind" || name === "duration_minutes") { update(); }
  });
  update();
}());
