// ruen serve: keyboard review of a document (j/k move, Enter edit, Ctrl+Enter save and next,
// Esc cancel, n next flagged, h history). Archive text is only ever set with textContent.
"use strict";

(function () {
  const table = document.getElementById("sentences");
  const status = document.getElementById("status");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function say(message, isError) {
    if (!status) return;
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  if (!table) return;
  const doc = table.dataset.doc;
  const editable = table.dataset.editable === "1";
  const rows = () => Array.from(table.querySelectorAll("tr.sentence"));

  function active() {
    return table.querySelector("tr.sentence.active");
  }

  function activate(row, scroll) {
    if (!row) return;
    const current = active();
    if (current && current !== row) current.classList.remove("active");
    row.classList.add("active");
    if (scroll !== false) row.scrollIntoView({ block: "nearest" });
  }

  function step(delta) {
    const all = rows();
    const at = all.indexOf(active());
    const next = all[Math.min(all.length - 1, Math.max(0, at + delta))];
    activate(next);
  }

  function nextFlagged() {
    const all = rows();
    const at = all.indexOf(active());
    for (let i = 1; i <= all.length; i++) {
      const row = all[(at + i) % all.length];
      if (row.classList.contains("flagged")) {
        activate(row);
        return;
      }
    }
    say("No flagged sentence in this document.");
  }

  function editorOf(row) {
    return row.querySelector("textarea.editor");
  }

  function textOf(row) {
    return row.querySelector("td.en .text").textContent;
  }

  function openEditor(row) {
    if (!editable || !row) return;
    activate(row, false);
    let editor = editorOf(row);
    if (!editor) {
      editor = document.createElement("textarea");
      editor.className = "editor";
      editor.value = textOf(row);
      editor.rows = Math.max(2, Math.ceil(editor.value.length / 70));
      editor.setAttribute("aria-label", "English translation of sentence " + row.dataset.index);
      row.querySelector("td.en .text").after(editor);
      row.classList.add("editing");
    }
    editor.focus();
  }

  function closeEditor(row) {
    const editor = editorOf(row);
    if (editor) editor.remove();
    row.classList.remove("editing");
    const conflict = row.querySelector(".conflict");
    if (conflict) conflict.remove();
  }

  function showText(row, sentence) {
    // the new text with its glossary terms marked where the server found them
    const cell = row.querySelector("td.en .text");
    cell.textContent = "";
    let position = 0;
    for (const mark of sentence.en_marks || []) {
      if (mark.start < position) continue;
      cell.append(document.createTextNode(sentence.en.slice(position, mark.start)));
      const span = document.createElement("span");
      span.className = "term term-" + mark.status;
      span.title = mark.title;
      span.textContent = sentence.en.slice(mark.start, mark.end);
      cell.append(span);
      position = mark.end;
    }
    cell.append(document.createTextNode(sentence.en.slice(position)));
    row.dataset.version = String(sentence.version);
    const kind = row.querySelector(".kind");
    if (kind) {
      kind.textContent = sentence.kind;
      kind.className = "kind kind-" + sentence.kind;
    }
    let by = row.querySelector(".by");
    if (sentence.editor) {
      if (!by) {
        by = document.createElement("span");
        by.className = "by";
        kind.after(by);
      }
      by.textContent = " by " + sentence.editor;
    }
    row.classList.toggle("flagged", sentence.flags.some((f) => f.severity === "error"));
    const history = row.querySelector(".history");
    if (history) history.remove();
  }

  function showConflict(row, answer) {
    let box = row.querySelector(".conflict");
    if (box) box.remove();
    box = document.createElement("div");
    box.className = "conflict";
    const head = document.createElement("p");
    head.textContent = answer.error;
    const theirs = document.createElement("div");
    theirs.className = "theirs";
    theirs.textContent = answer.theirs;
    const yours = document.createElement("div");
    yours.className = "yours";
    yours.textContent = answer.yours;
    const labelTheirs = document.createElement("b");
    labelTheirs.textContent = "Stored now: ";
    const labelYours = document.createElement("b");
    labelYours.textContent = "Yours: ";
    theirs.prepend(labelTheirs);
    yours.prepend(labelYours);
    box.append(head, theirs, yours);
    row.querySelector("td.en").append(box);
    // saving again now overwrites knowingly: from the version stored now
    row.dataset.version = String(answer.version);
  }

  async function save(row) {
    const editor = editorOf(row);
    if (!editor) return;
    const en = editor.value.trim();
    if (!en) {
      say("The translation is empty; nothing stored.", true);
      return;
    }
    say("Saving…");
    let response;
    try {
      response = await fetch("/api/documents/" + doc + "/sentences/" + row.dataset.index, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ en: en, version: Number(row.dataset.version) }),
      });
    } catch (error) {
      say("Not saved: the server did not answer (" + error + ").", true);
      return;
    }
    let answer = {};
    try {
      answer = await response.json();
    } catch (error) {
      answer = { error: "HTTP " + response.status };
    }
    if (response.status === 409) {
      showConflict(row, answer);
      say("Not saved: the sentence was changed since you opened it.", true);
      return;
    }
    if (!response.ok) {
      say("Not saved: " + (answer.error || "HTTP " + response.status), true);
      return;
    }
    closeEditor(row);
    showText(row, answer.sentence);
    say(answer.stored ? "Saved" : "Saved (unchanged)");
    const all = rows();
    const next = all[all.indexOf(row) + 1];
    if (next) activate(next);
  }

  async function toggleHistory(row) {
    const present = row.querySelector(".history");
    if (present) {
      present.remove();
      return;
    }
    const response = await fetch(
      "/api/documents/" + doc + "/sentences/" + row.dataset.index + "/history",
      { credentials: "same-origin" });
    if (!response.ok) {
      say("Could not load the history (HTTP " + response.status + ").", true);
      return;
    }
    const answer = await response.json();
    const box = document.createElement("div");
    box.className = "history";
    const list = document.createElement("ol");
    for (const entry of answer.history) {
      const item = document.createElement("li");
      item.className = "history-entry" + (entry.current ? " current" : "");
      const meta = document.createElement("span");
      meta.className = "history-meta";
      meta.textContent = [entry.kind, entry.editor ? "by " + entry.editor : "",
        entry.created, entry.system].filter(Boolean).join(" · ");
      const text = document.createElement("span");
      text.className = "history-text";
      text.textContent = entry.en;
      item.append(meta, text);
      list.append(item);
    }
    box.append(list);
    row.querySelector("td.en").append(box);
  }

  // ---------------------------------------------------------------- wiring

  const start = location.hash ? document.getElementById(location.hash.slice(1)) : null;
  activate(start && start.classList.contains("sentence") ? start : rows()[0], Boolean(start));

  table.addEventListener("click", (event) => {
    const row = event.target.closest("tr.sentence");
    if (!row) return;
    if (event.target.closest("button.history-toggle")) {
      activate(row, false);
      toggleHistory(row);
      return;
    }
    if (event.target.closest("textarea, .history, .conflict, a")) return;
    if (event.target.closest("td.en")) {
      openEditor(row);
    } else {
      activate(row, false);
    }
  });

  const nextButton = document.getElementById("next-flagged");
  if (nextButton) nextButton.addEventListener("click", nextFlagged);

  document.addEventListener("keydown", (event) => {
    const inEditor = event.target.matches && event.target.matches("textarea.editor");
    if (inEditor) {
      const row = event.target.closest("tr.sentence");
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        save(row);
      } else if (event.key === "Escape") {
        event.preventDefault();
        closeEditor(row);
        activate(row, false);
        say("Edit cancelled.");
      }
      return;
    }
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    // on a button (after clicking "next flagged" or "history") the keys keep working, but
    // Enter and Space press the button, as they should
    if (event.target.closest && event.target.closest("button") &&
        (event.key === "Enter" || event.key === " ")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const row = active();
    switch (event.key) {
      case "j":
        step(1);
        break;
      case "k":
        step(-1);
        break;
      case "Enter":
        if (row) openEditor(row);
        break;
      case "n":
        nextFlagged();
        break;
      case "h":
        if (row) toggleHistory(row);
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
