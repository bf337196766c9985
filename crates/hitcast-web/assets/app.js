// Progressive enhancement of the prediction page: the form works without this file.
// With it: slider values show as they move, the answer follows the inputs, genres filter.
"use strict";
(function () {
  const form = document.getElementById("track-form");
  if (!form) return;
  const result = document.getElementById("result");

  for (const slider of form.querySelectorAll("input[type=range]")) {
    const out = document.getElementById(slider.name + "-value");
    // Three significant figures, as the server renders the label.
    slider.addEventListener("input", () => {
      if (out) out.value = String(parseFloat(Number(slider.value).toPrecision(3)));
    });
  }

  const filter = document.getElementById("genre-filter");
  const genres = document.getElementById("genres");
  if (filter && genres) {
    filter.hidden = false;
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const option of genres.options) {
        option.hidden = q !== "" && !option.value.includes(q) && !option.selected;
      }
    });
  }

  const chosen = document.getElementById("genres-chosen");
  if (genres && chosen) {
    genres.addEventListener("change", () => {
      const names = Array.from(genres.selectedOptions, (o) => o.value);
      chosen.textContent = names.length ? "Chosen: " + names.join(", ") : "No genre chosen.";
    });
  }

  // Live updates: ask for the result panel after each change, the latest answer winning.
  let timer = 0;
  let latest = 0;
  async function refresh() {
    const ticket = ++latest;
    try {
      const response = await fetch("/predict/result", {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
      });
      const html = await response.text();
      if (ticket === latest) {
        result.innerHTML = html;
        result.dataset.updates = String(Number(result.dataset.updates || 0) + 1);
      }
    } catch (err) {
      // Offline or the server stopped: the Predict button still posts the form.
    }
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(refresh, 120); };
  form.addEventListener("input", (event) => { if (event.target !== filter) schedule(); });
  form.addEventListener("change", (event) => { if (event.target !== filter) schedule(); });
})();
