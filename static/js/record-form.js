// The record form's enhancements: filter the "more languages" list as one types, and let
// htmx show the form again with its messages when the server answers 422 (scrolled to the
// first one).
(function () {
  "use strict";

  function revealSearch(root) {
    var inputs = (root || document).querySelectorAll(".chip-search[hidden]");
    for (var i = 0; i < inputs.length; i++) { inputs[i].hidden = false; }
  }

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("chip-search")) { return; }
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) { return; }
    var needle = input.value.trim().toLowerCase();
    var chips = list.querySelectorAll("[data-search]");
    for (var i = 0; i < chips.length; i++) {
      chips[i].hidden = needle !== "" && chips[i].dataset.search.indexOf(needle) === -1;
    }
  });

  // Enter in the search box filters; it must not submit the visit.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.classList && event.target.classList.contains("chip-search")) {
      event.preventDefault();
    }
  });

  // A 422 carries the form with its messages (the server retargets it); swap it in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // The status beside Save says to correct the form; bring the first marked field into view
  // (centred, so the action bar at the bottom does not cover it).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.xhr || event.detail.xhr.status !== 422) { return; }
    var form = document.getElementById("record-form");
    var first = form && form.querySelector(".group-error, [aria-invalid='true']");
    if (first) { first.scrollIntoView({ block: "center" }); }
  });

  document.addEventListener("htmx:load", function (event) { revealSearch(event.target); });
  revealSearch(document);
})();
