// Progressive enhancement of the prediction page: the form works without this file.
// With it: slider values show as they move, the answer follows the inputs, genres filter, and
// an audio file is measured as soon as it is picked or dropped on its box.
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

  // What-if curves move from under the answer to beside their controls, where a slider's
  // effect can be read as it moves; those open stay open across updates.
  function placeCurves(open) {
    let moved = 0;
    const curves = result.querySelectorAll("details.curve");
    for (const curve of curves) {
      const slot = form.querySelector('.curve-slot[data-feature="' + curve.dataset.feature + '"]');
      if (!slot) continue;
      slot.replaceChildren(curve);
      if (open.has(curve.dataset.feature)) curve.open = true;
      moved += 1;
    }
    const section = result.querySelector("section.what-if-curves");
    if (section && moved === curves.length) section.hidden = true;
  }
  placeCurves(new Set());

  // An audio file: sent with the form (its genres and names) to be measured, once picked or
  // dropped; the page that comes back shows what was measured and the answer.
  const file = document.getElementById("audio-file");
  const measure = document.getElementById("measure");
  const drop = document.getElementById("audio-drop");
  if (file && measure && drop) {
    const hint = drop.querySelector(".drop-hint");
    if (hint) hint.hidden = false;
    const status = document.getElementById("audio-status");
    const send = () => {
      if (!file.files.length) return;
      drop.classList.add("busy");
      if (status) status.textContent = "Measuring " + file.files[0].name + "\u2026";
      form.requestSubmit(measure);
    };
    file.addEventListener("change", send);
    drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        file.files = event.dataTransfer.files;
        send();
      }
    });
  }

  // Live updates: ask for the result panel after each change, the latest answer winning.
  let timer = 0;
  let latest = 0;
  async function refresh() {
    const ticket = ++latest;
    // The form's fields without the audio file, which the live answer does not need.
    const fields = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string") fields.append(name, value);
    }
    try {
      const response = await fetch("/predict/result", { method: "POST", body: fields });
      const html = await response.text();
      if (ticket === latest) {
        const open = new Set(Array.from(form.querySelectorAll("details.curve[open]"), (d) => d.dataset.feature));
        result.innerHTML = html;
        placeCurves(open);
        result.dataset.updates = String(Number(result.dataset.updates || 0) + 1);
      }
    } catch (err) {
      // Offline or the server stopped: the Predict button still posts the form.
    }
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(refresh, 120); };
  const live = (event) => event.target !== filter && event.target !== file;
  form.addEventListener("input", (event) => { if (live(event)) schedule(); });
  form.addEventListener("change", (event) => { if (live(event)) schedule(); });
})();
