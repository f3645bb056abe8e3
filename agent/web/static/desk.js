// paper-digest review desk: progressive enhancement only. Every action is a plain form that works
// without this file; here: live character count, tag chips, keyboard (j/k/a/e), linked highlights.
"use strict";
(function () {
  const cards = Array.from(document.querySelectorAll("article.card"));
  // What only works with this script is hidden in the page until it runs.
  document.querySelectorAll(".chips[hidden], .keys[hidden]").forEach(function (el) { el.hidden = false; });
  const MAX_TAGS = 3;

  function chars(text) { return Array.from(text.trim()).length; }

  // Live character count against the house bounds, and (after a pause in typing) the server's check of
  // the line: the faithfulness highlights and the validator's problems, the same ones a save would give.
  document.querySelectorAll("textarea[data-max]").forEach(function (ta) {
    const out = ta.parentElement.querySelector(".count");
    const n = out && out.querySelector(".n");
    const card = ta.closest("article.card");
    let timer = null;
    let asked = 0;
    function update() {
      const c = chars(ta.value);
      n.textContent = String(c);
      out.classList.toggle("bad", c < Number(ta.dataset.min) || c > Number(ta.dataset.max));
    }
    function check() {
      const ticket = ++asked;
      fetch(ta.dataset.check + "&summary=" + encodeURIComponent(ta.value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || ticket !== asked) { return; }
          const doc = new DOMParser().parseFromString(html, "text/html");
          doc.querySelectorAll("template[data-part]").forEach(function (t) {
            const target = card.querySelector('[data-part="' + t.dataset.part + '"]');
            if (target) { target.replaceChildren(document.importNode(t.content, true)); }
          });
          card.dataset.checked = String(ticket);
        })
        .catch(function () { /* the save still checks */ });
    }
    ta.addEventListener("input", function () {
      update();
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    });
    update();
  });

  // Tag chips: click to toggle, at most three, the first chosen is the main field. The text field
  // stays the source of truth (and the way to set tags without JavaScript).
  document.querySelectorAll("form.editor").forEach(function (form) {
    const input = form.querySelector("input.tags");
    const chips = Array.from(form.querySelectorAll(".chip"));
    function current() { return input.value.split(",").map(function (t) { return t.trim(); }).filter(Boolean); }
    function paint() {
      const tags = current();
      chips.forEach(function (chip) {
        const i = tags.indexOf(chip.dataset.tag);
        chip.setAttribute("aria-pressed", i >= 0 ? "true" : "false");
        if (i >= 0) { chip.dataset.order = String(i + 1); } else { delete chip.dataset.order; }
      });
    }
    chips.forEach(function (chip) {
      chip.addEventListener("click", function () {
        const tags = current();
        const i = tags.indexOf(chip.dataset.tag);
        if (i >= 0) { tags.splice(i, 1); }
        else if (tags.length >= MAX_TAGS) { chip.animate && chip.animate([{ transform: "translateX(-3px)" }, { transform: "translateX(3px)" }], 120); return; }
        else { tags.push(chip.dataset.tag); }
        input.value = tags.join(", ");
        paint();
      });
    });
    input.addEventListener("input", paint);
    paint();
  });

  // The same token in the line and in the abstract lights up together (delegated: checks replace marks).
  function lit(ev, on) {
    const m = ev.target.closest && ev.target.closest("mark.hl");
    if (!m) { return; }
    m.closest("article.card").querySelectorAll("mark.hl").forEach(function (o) {
      if (o.dataset.k === m.dataset.k) { o.classList.toggle("lit", on); }
    });
  }
  document.addEventListener("mouseover", function (ev) { lit(ev, true); });
  document.addEventListener("mouseout", function (ev) { lit(ev, false); });

  // Keyboard: j/k next/previous card, a approve, e edit the summary; Esc leaves a field.
  let current = -1;
  function select(i, scroll) {
    if (!cards.length) { return; }
    current = Math.max(0, Math.min(cards.length - 1, i));
    cards.forEach(function (c, k) { c.classList.toggle("current", k === current); });
    if (scroll) { cards[current].focus({ preventScroll: true }); cards[current].scrollIntoView({ block: "start" }); }
  }
  const fromHash = location.hash.startsWith("#p-") ? cards.findIndex(function (c) { return "#" + c.id === location.hash; }) : -1;
  const firstOpen = cards.findIndex(function (c) { return /\b(pending|flagged|needs-review)\b/.test(c.className); });
  select(fromHash >= 0 ? fromHash : Math.max(firstOpen, 0), fromHash >= 0);
  cards.forEach(function (c, k) { c.addEventListener("click", function () { select(k, false); }); });

  document.addEventListener("keydown", function (ev) {
    const t = ev.target;
    const typing = t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.isContentEditable);
    if (typing) { if (ev.key === "Escape") { t.blur(); } return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey || current < 0) { return; }
    const card = cards[current];
    if (ev.key === "j") { select(current + 1, true); }
    else if (ev.key === "k") { select(current - 1, true); }
    else if (ev.key === "a") { const f = card.querySelector("form.approve"); if (f) { f.requestSubmit(); } }
    else if (ev.key === "e") { const ta = card.querySelector("textarea"); if (ta) { ta.focus(); } }
    else { return; }
    ev.preventDefault();
  });
})();
