// Steppers: the − / + buttons beside a number input. Without this file the plain number
// input still works; the buttons stay hidden because they would do nothing.
(function () {
  "use strict";

  function reveal(root) {
    var buttons = (root || document).querySelectorAll("[data-stepper] .stepper-button[hidden]");
    for (var i = 0; i < buttons.length; i++) { buttons[i].hidden = false; }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".stepper-button");
    if (!button) { return; }
    var input = document.getElementById(button.getAttribute("aria-controls"));
    if (!input) { return; }
    var min = parseInt(input.min || "0", 10);
    var max = parseInt(input.max || "50", 10);
    var value = (parseInt(input.value, 10) || 0) + parseInt(button.dataset.step, 10);
    input.value = String(Math.min(max, Math.max(min, value)));
    input.dispatchEvent(new Event("input", { bubbles: true }));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Tapping (or tabbing to) a count selects it, so typing replaces it: "0" then 7 gives "7",
  // not "07". A tap's mouseup would clear the selection in some browsers (Safari), so the
  // mouseup right after the focusing tap is ignored.
  var justFocused = null;

  function countInput(target) {
    return target && target.matches && target.matches("[data-stepper] input[type=number]") ? target : null;
  }

  document.addEventListener("focusin", function (event) {
    var input = countInput(event.target);
    if (!input || input.value === "") { return; }
    justFocused = input;
    input.select();
  });

  document.addEventListener("mouseup", function (event) {
    if (justFocused && event.target === justFocused) { event.preventDefault(); }
    justFocused = null;
  });

  document.addEventListener("keydown", function () { justFocused = null; });

  // htmx swaps in a fresh form after each save; reveal its buttons too.
  document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  reveal(document);
})();
