/* The coming open days and places left, for a page of the museum's own website.
 *
 * Paste the snippet the booking app's /<lang>/embed page gives. Each element with
 * data-nmr-booking is a plain "Book a visit" link until this script has read GET /api/availability
 * (from the booking app, which must list the website in EMBED_ORIGINS); then it shows the next
 * open days, each hour a link to the booking page. The words come from the snippet's data-label-*
 * attributes (the app's catalogs wrote them), dates and plurals from the browser's Intl. The
 * booking itself happens on the app's own pages. Without JavaScript, or when the app cannot be
 * reached, the link stays.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var base = script ? new URL(script.src).origin : "";
  var TIMEZONE = "Europe/Brussels";
  var LOCALES = { fr: "fr-BE", nl: "nl-BE", en: "en-GB", de: "de-BE" };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function placesLabel(box, locale, count) {
    var form = new Intl.PluralRules(locale).select(count) === "one" ? "one" : "other";
    return (box.getAttribute("data-label-" + form) || "{n}").replace("{n}", String(count));
  }

  function render(box, data, lang) {
    var locale = LOCALES[lang] || lang;
    var wanted = parseInt(box.getAttribute("data-days") || "5", 10);
    var dayName = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", timeZone: TIMEZONE });
    var hour = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone: TIMEZONE });
    var days = data.days.filter(function (day) {
      return day.open && day.slots.some(function (slot) { return slot.bookable && slot.remaining > 0; });
    }).slice(0, wanted);
    if (!days.length) { return; }  // nothing to show: the plain link stays

    var link = box.querySelector("a");
    var list = element("ul", "nmr-days");
    days.forEach(function (day) {
      var item = element("li", "nmr-day");
      var noon = new Date(day.date + "T12:00:00Z");
      item.appendChild(element("h3", "nmr-day-name", dayName.format(noon)));
      var hours = element("ul", "nmr-hours");
      day.slots.forEach(function (slot) {
        if (!slot.bookable) { return; }
        var entry = element("li", "nmr-hour");
        var time = hour.format(new Date(slot.start));
        if (slot.remaining > 0) {
          var to = element("a", null, time + " · " + placesLabel(box, locale, slot.remaining));
          to.href = base + "/" + lang + "/book?start=" + encodeURIComponent(slot.start);
          entry.appendChild(to);
        } else {
          entry.appendChild(element("span", "nmr-full", time + " · " + (box.getAttribute("data-label-full") || "")));
        }
        hours.appendChild(entry);
      });
      item.appendChild(hours);
      list.appendChild(item);
    });
    var title = box.getAttribute("data-label-title");
    if (title) { box.insertBefore(element("h2", "nmr-title", title), link); }
    box.insertBefore(list, link);
    if (link) { link.textContent = box.getAttribute("data-label-more") || link.textContent; }
    box.setAttribute("data-nmr-ready", "");
  }

  function load(box) {
    var lang = box.getAttribute("data-lang") || (document.documentElement.lang || "fr").slice(0, 2);
    fetch(base + "/api/availability?language=" + encodeURIComponent(lang), { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { render(box, data, lang); } })
      .catch(function () { /* the app is unreachable: the plain link stays */ });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-nmr-booking]"), load);
})();
