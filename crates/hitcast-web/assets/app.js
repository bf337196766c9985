// Progressive enhancement of the prediction page: the form works without this file.
// With it: slider values show as they move, the answer follows the inputs (and the address
// keeps them, to share or reload), genres filter, and an audio file is measured as soon as it
// is picked or dropped on its box.
"use strict";
(function () {
  // Search as you type: up to eight suggestions from /api/v1/tracks under the box (an ARIA
  // combobox: arrow keys move, Enter or a click loads the track, Escape closes). Without the
  // script, the box's form loads the search's page.
  const q = document.getElementById("q");
  const list = document.getElementById("q-list");
  if (q && list) {
    let asked = 0;
    let active = -1;
    const options = () => Array.from(list.querySelectorAll("[role=option]"));
    const show = (open) => {
      list.hidden = !open;
      q.setAttribute("aria-expanded", String(open));
      if (!open) { active = -1; q.removeAttribute("aria-activedescendant"); }
    };
    const mark = (i) => {
      const all = options();
      active = all.length ? (i + all.length) % all.length : -1;
      all.forEach((o, j) => o.setAttribute("aria-selected", String(j === active)));
      if (active >= 0) {
        q.setAttribute("aria-activedescendant", all[active].id);
        all[active].scrollIntoView({ block: "nearest" });
      }
    };
    const load = (option) => { window.location.href = "/predict?track=" + encodeURIComponent(option.dataset.id); };
    let timer = 0;
    q.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const text = q.value.trim();
        const ticket = ++asked;
        if (text.length < 2) { show(false); return; }
        try {
          const response = await fetch("/api/v1/tracks?limit=8&q=" + encodeURIComponent(text));
          if (!response.ok || ticket !== asked) return;
          const found = await response.json();
          list.replaceChildren(...found.tracks.map((t, i) => {
            const li = document.createElement("li");
            li.id = "q-option-" + i;
            li.setAttribute("role", "option");
            li.setAttribute("aria-selected", "false");
            li.dataset.id = t.track_id;
            const name = document.createElement("b");
            name.textContent = t.track_name;
            // The album tells apart the same song on several releases.
            const album = t.album_name && t.album_name !== t.track_name ? " · " + t.album_name : "";
            const rest = " · " + t.artists.replaceAll(";", ", ") + album +
              (t.popularity === null ? "" : " · popularity " + t.popularity);
            li.append(name, rest);
            li.addEventListener("mousedown", (event) => { event.preventDefault(); load(li); });
            return li;
          }));
          if (!found.tracks.length) {
            const li = document.createElement("li");
            li.className = "none";
            li.textContent = "No track matches: press Enter for why, or set the features below.";
            list.replaceChildren(li);
          }
          active = -1;
          show(true);
        } catch (e) {
          show(false);
        }
      }, 150);
    });
    q.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); mark(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); mark(active - 1); }
      else if (event.key === "Escape") { show(false); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); load(options()[active]); }
    });
    q.addEventListener("blur", () => show(false));
  }

  // A comparison is remembered in this tab: the Predict page's "Add to comparison" adds its
  // scenario to the ones compared last; the compare page keeps its own list.
  const KEY = "hitcast-compare";
  const listed = (search) => new URLSearchParams(search).getAll("s");
  const compareTo = (scenarios) => "/compare?" + scenarios.map((s) => "s=" + encodeURIComponent(s)).join("&");
  if (document.getElementById("compare")) {
    sessionStorage.setItem(KEY, JSON.stringify(listed(location.search)));
  }
  document.addEventListener("click", (event) => {
    const add = event.target.closest && event.target.closest("#compare-add");
    if (!add) return;
    event.preventDefault();
    let before = [];
    try { before = JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { before = []; }
    const scenario = listed(new URL(add.href).search)[0];
    const all = before.filter((s) => s !== scenario).concat([scenario]).slice(-4);
    window.location.href = compareTo(all);
  });

  // A table wider than its box says so above it ("Swipe sideways"): marked here, where the
  // widths are known, again when the window resizes or the answer is redrawn.
  const markWide = () => {
    document.querySelectorAll("div.table-scroll").forEach((box) => {
      box.classList.toggle("overflows", box.scrollWidth > box.clientWidth + 1);
    });
  };
  markWide();
  window.addEventListener("resize", markWide);

  const form = document.getElementById("track-form");
  if (!form) return;
  const result = document.getElementById("result");

  for (const slider of form.querySelectorAll("input[type=range]")) {
    const out = document.getElementById(slider.name + "-value");
    // Three significant figures, as the server renders the label; a dragged slider takes that
    // value too, so what is shown is what is scored and put in the address (not the pixel's
    // 0.4637681159420289).
    slider.addEventListener("input", () => {
      slider.value = String(parseFloat(Number(slider.value).toPrecision(3)));
      if (out) out.value = slider.value;
    });
  }

  // Genres as chips: the chosen ones as buttons that remove them, and a type-ahead box whose
  // suggestions (arrow keys and Enter, or a click) add one. The multi-select stays the form's
  // field, hidden, so the form sends what it always did.
  const filter = document.getElementById("genre-filter");
  const genres = document.getElementById("genres");
  const chips = document.getElementById("genre-chips");
  const suggestions = document.getElementById("genre-list");
  const chosen = document.getElementById("genres-chosen");
  if (filter && genres && chips && suggestions) {
    genres.hidden = true;
    filter.hidden = false;
    chips.hidden = false;
    if (chosen) chosen.hidden = true;
    const label = document.getElementById("genres-label");
    if (label) { label.textContent = "genres"; label.htmlFor = "genre-filter"; }
    const changed = () => genres.dispatchEvent(new Event("change", { bubbles: true }));
    const renderChips = () => {
      chips.replaceChildren(...Array.from(genres.selectedOptions, (option) => {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip";
        // A genre the model does not know (from a link) is marked, not dropped.
        const unknown = option.hasAttribute("data-unknown");
        chip.textContent = option.value + (unknown ? " (unknown to the model)" : "") + " \u00d7";
        if (unknown) chip.classList.add("unknown");
        chip.setAttribute("aria-label", "remove " + option.value + (unknown ? ", a genre the model does not know" : ""));
        chip.addEventListener("click", () => { option.selected = false; changed(); filter.focus(); });
        return chip;
      }));
      if (!genres.selectedOptions.length) {
        const none = document.createElement("span");
        none.className = "muted";
        none.textContent = "No genre chosen.";
        chips.replaceChildren(none);
      }
    };
    genres.addEventListener("change", renderChips);
    renderChips();
    let active = -1;
    const open = (yes) => {
      suggestions.hidden = !yes;
      filter.setAttribute("aria-expanded", String(yes));
      if (!yes) { active = -1; filter.removeAttribute("aria-activedescendant"); }
    };
    const add = (name) => {
      const option = Array.from(genres.options).find((o) => o.value === name);
      if (option) option.selected = true;
      filter.value = "";
      open(false);
      changed();
    };
    const suggest = () => {
      const q = filter.value.trim().toLowerCase();
      if (!q) { open(false); return; }
      const free = Array.from(genres.options).filter((o) => !o.selected && o.value.includes(q));
      // Names that start with the text first ("pop" before "j-pop").
      free.sort((a, b) => (b.value.startsWith(q) - a.value.startsWith(q)) || a.value.localeCompare(b.value));
      suggestions.replaceChildren(...free.slice(0, 8).map((o, i) => {
        const li = document.createElement("li");
        li.id = "genre-option-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = o.value;
        li.addEventListener("mousedown", (event) => { event.preventDefault(); add(o.value); });
        return li;
      }));
      active = -1;
      if (!free.length) {
        // Said, where an empty list would look like a box that does nothing.
        const none = document.createElement("li");
        none.className = "muted";
        none.textContent = "No genre the model knows matches \u201c" + filter.value.trim() + "\u201d";
        suggestions.replaceChildren(none);
      }
      open(true);
    };
    filter.addEventListener("input", suggest);
    filter.addEventListener("keydown", (event) => {
      const all = Array.from(suggestions.querySelectorAll("[role=option]"));
      if (event.key === "Enter") {
        // Enter adds the marked suggestion, or the only one; it never submits the form.
        event.preventDefault();
        const pick = active >= 0 ? all[active] : all.length === 1 ? all[0] : null;
        if (pick) add(pick.textContent);
        return;
      }
      if (suggestions.hidden || !all.length) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : -1) + all.length) % all.length;
        all.forEach((o, j) => o.setAttribute("aria-selected", String(j === active)));
        filter.setAttribute("aria-activedescendant", all[active].id);
      } else if (event.key === "Escape") {
        open(false);
      }
    });
    filter.addEventListener("blur", () => open(false));
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

  // While the answer follows the inputs, a value it refuses is marked at its field, with the
  // reason under it, as a submitted form marks it; the marks go with the next answer.
  function markInvalid() {
    form.querySelectorAll("p.error").forEach((note) => note.remove());
    form.querySelectorAll("[aria-invalid]").forEach((input) => {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    });
    result.querySelectorAll("li[data-field]").forEach((item) => {
      const name = item.dataset.field;
      // A field of two inputs (duration: its minutes and seconds) is marked at both, its
      // reason under the pair.
      const one = form.querySelector("#" + CSS.escape(name));
      const inputs = one ? [one] : Array.from(form.querySelectorAll("[name^='" + CSS.escape(name) + "_']"));
      if (!inputs.length) return;
      const note = document.createElement("p");
      note.className = "error";
      note.id = name + "-error";
      note.setAttribute("role", "alert");
      note.textContent = item.dataset.message;
      for (const input of inputs) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", note.id);
      }
      const last = inputs[inputs.length - 1];
      (one ? last : last.closest(".row") || last).insertAdjacentElement("afterend", note);
    });
  }

  // The form's fields without the audio file, which the live answer does not need: the
  // scenario, as its link holds it.
  function scenario() {
    const fields = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string") fields.append(name, value);
    }
    return fields;
  }
  // A page that came back from measuring a file has the post's address, which a link or a
  // reload cannot give again: the scenario's own, as after any change.
  if (location.pathname === "/predict/audio") {
    history.replaceState(null, "", "/predict?" + scenario().toString());
  }

  // Live updates: ask for the result panel after each change, the latest answer winning.
  let timer = 0;
  let latest = 0;
  const stale = document.createElement("p");
  stale.className = "notice";
  stale.setAttribute("role", "alert");
  stale.textContent = "The server cannot be reached: this answer is for the inputs before your last change.";
  async function refresh() {
    const ticket = ++latest;
    const fields = scenario();
    try {
      const response = await fetch("/predict/result", { method: "POST", body: fields });
      const html = await response.text();
      if (ticket === latest) {
        stale.remove();
        // The scenario in the address: a reload or a shared link gives the same form and answer.
        history.replaceState(null, "", "/predict?" + fields.toString());
        const open = new Set(Array.from(form.querySelectorAll("details.curve[open]"), (d) => d.dataset.feature));
        result.innerHTML = html;
        placeCurves(open);
        markWide();
        markInvalid();
        result.dataset.updates = String(Number(result.dataset.updates || 0) + 1);
      }
    } catch (err) {
      // Offline or the server stopped: the answer shown is an earlier one, and says so.
      if (ticket === latest) result.prepend(stale);
    }
  }
  const schedule = () => { clearTimeout(timer); timer = setTimeout(refresh, 120); };
  const live = (event) => event.target !== filter && event.target !== file;
  form.addEventListener("input", (event) => { if (live(event)) schedule(); });
  form.addEventListener("change", (event) => { if (live(event)) schedule(); });
  // The Predict button asks for the answer as a change does, keeping the scenario's address;
  // only a file to measure is posted as a form.
  form.addEventListener("submit", (event) => {
    if (event.submitter === measure) return;
    event.preventDefault();
    clearTimeout(timer);
    refresh();
  });
})();
