// The read-only pages: the leaderboard's selectors apply as soon as they
// change (the form still works with its button when scripts are off).
"use strict";
(function () {
  const form = document.getElementById("board-filters");
  if (!form) return;
  form.querySelectorAll("select, input[type=checkbox]").forEach((control) =>
    control.addEventListener("change", () => form.submit()),
  );
})();
