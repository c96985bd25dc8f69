// The labelling page: asks the service to label a page's blocks, lets a person correct the
// labels with the mouse or the keyboard, and saves the page with its labels as an example.
//
// Page text is untrusted. Every string that comes from a page (or from the example store) is put
// into the DOM with textContent or as an attribute value of an element this script created,
// never parsed as markup; the server's Content-Security-Policy (scripts from this origin only,
// Trusted Types required) stands behind that rule.
"use strict";

(function () {
  // The four labels of LABELS.md, in the order of the keys 1-4. A model trained with labels of
  // its own (say "comment") gets them appended, on keys 5-9.
  const STANDARD_LABELS = ["content", "related", "teaser", "junk"];
  // what each means (docs/labels.md), on its buttons and chips: related against teaser is the
  // distinction labellers most often get wrong, and the page named the labels only
  const MEANINGS = {
    content: "Part of the article itself: title, standfirst, body, in-body headings, lists, tables, " +
      "quotes, captions of its own pictures, its byline.",
    related: "A link, teaser or heading pointing to other articles on this article's story or topic " +
      "(judge the topic, not the site).",
    teaser: "A link, teaser or heading pointing to articles on other topics: latest news, most read, " +
      "recommended, sponsored.",
    junk: "Anything else that is not the article: furniture, ads and their labels, share, subscribe " +
      "and cookie prompts, comment widgets, legal lines, author boxes, degenerate text.",
  };
  const MAX_KEYED_LABELS = 9;
  const EXAMPLE_SOURCE = "label-page";
  const PAGE_CELL_CHARS = 80;  // of a saved page's first block, shown for a page without an address
  // what the service takes as a page's address (filter.extract.check_url): scheme://host…
  const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#\s]/;
  // what fetch cannot send in a header value (a NUL, a line break, anything beyond Latin-1)
  const NOT_IN_A_HEADER = /[\0\n\r\u0100-\uffff]/;
  const INVALID_KEY = "invalid API key";

  const $ = (id) => document.getElementById(id);
  const count = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  const ui = {
    form: $("input-form"), doc: $("doc"), file: $("file"), format: $("format"), url: $("url"),
    labelledBy: $("labelled-by"), apiKey: $("api-key"), service: document.querySelector("details.service"),
    analyse: $("analyse"), status: $("status"), result: $("result"), summary: $("summary"),
    labelButtons: $("label-buttons"), save: $("save"), unsaved: $("unsaved"), blocks: $("blocks"),
    cleanText: $("clean-text"),
    modelVersion: $("model-version"), saved: $("saved"), savedCount: $("saved-count"),
    refresh: $("refresh"), exportButton: $("export"), more: $("more"), toReview: $("to-review"),
  };

  const state = {
    labels: STANDARD_LABELS.slice(),
    keep: "content",    // the label whose blocks make the clean text: the model's first
    // the document the blocks came from, exactly as sent to /v1/clean (what Save stores)
    // and the page address it was labelled with (saved with it once the form holds another)
    doc: null,          // {kind: "html"|"text", value, url}
    // the file last put into the form: its text as decoded, as the textarea shows it, its
    // kind; whether the format selector follows the file (until the person changes it), and
    // shows its kind now; the text before the latest change; whether it did for the texts on
    // either side of each change of kind since (`textKey`: undo and redo bring one back, with
    // its kind); whether a format was chosen by hand for another document since the file's
    // text was last shown, and the emptied box it was chosen in; the document each text the
    // box held belongs to (0: the file, once a format was chosen for it; then 1, 2… for each
    // other document put into the box, and each emptied box a format was chosen in), the one
    // shown and how many there were; the format chosen for each (`onFormatChange`)
    // (`onDocumentInput`)
    // {text, shown, kind, holdsFormat, held, last, heldFor, chosen, chosenFor, docOf, doc, docs,
    //  formatOf}
    file: null,
    // whether the change the textarea is about to take replaces all of its text (a selection of
    // all of it typed or pasted over), recorded before the change (`onBeforeDocumentInput`)
    replacingAll: false,
    formatChosen: "auto",  // the format the person chose last, for documents not a file's
    // the address a stored page brought into the form (null: the field is the person's): a
    // file opened next is not that page, and was saved under its address
    storedUrl: null,
    // {text, kind, score, model: label the model gave, label: label now, reviewed: a person
    // gave it (a label key or click, also one that confirms the model's label), by: who gave
    // the label when not the person here ("model:<version>", or whoever the store names),
    // at: when that label was given (the store's labelled_at), null for one given here since}
    blocks: [],
    rows: [],           // the <li> of each block
    active: -1,         // block with the keyboard focus
    anchor: -1,         // where a Shift-selection starts
    selStart: -1, selEnd: -1,  // the selected run, inclusive
    dirty: false,       // labels changed since the blocks were shown or saved
    // labels given so far (applyLabel counts them): a save that answers leaves the page dirty
    // when labels were given while it was on its way, as they were not in what it sent
    edits: 0,
    // the label actions of this page, last one last, each the run it labelled as it was before
    // (`undo`, Ctrl+Z): Ctrl+A and a key relabelled the whole page, a person's stored labels
    // with it, and only opening the page again without saving took it back
    undo: [],           // [{from, to, before: [{label, reviewed, by, at}]}]
    saving: false,      // a save is on its way (Ctrl+S does not go through the disabled button)
    savedOffset: 0,     // next page of the saved-examples list, or null when all are shown
    listing: 0,         // the latest request for that list (older answers are dropped)
    labelling: 0,       // the latest page asked to be labelled (an older answer is dropped)
    lookupNeedsKey: false,  // the labels saved before for the page shown wait for the API key
  };

  // -- talking to the service ---------------------------------------------------------------

  class ServiceError extends Error {
    constructor(status, code, detail) {
      super(detail ? `${code}: ${detail}` : code);
      this.status = status;
      this.code = code;
    }
  }

  // an answer that asks for the (right) key: a 401, or a key this page cannot even send
  const needsKey = (err) => err.status === 401 || err.code === INVALID_KEY;

  // A request the service has not answered in this long is given up, said, and may be sent
  // again: a service that stalled (stopped, swapping) left "Saving…" on screen for good, and
  // Save disabled with it. Above what a page takes on a busy service (its time and queue
  // limits are seconds), a save's labels kept on the page.
  const ANSWER_WITHIN_MS = 120000;

  // `body` goes as JSON, or as it is with another `contentType` (a file's bytes)
  async function api(method, path, body, contentType = "application/json") {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = contentType;
    const key = ui.apiKey.value;
    if (key) {
      // fetch would throw on it, which would read as a service that does not answer
      if (NOT_IN_A_HEADER.test(key)) {
        throw new ServiceError(0, INVALID_KEY, "it holds a character an HTTP header cannot carry.");
      }
      headers["X-API-Key"] = key;
    }
    let response;
    const stalled = new AbortController();
    const timer = setTimeout(() => stalled.abort(), ANSWER_WITHIN_MS);
    try {
      response = await fetch(path, {
        method, headers,
        body: body === undefined || contentType !== "application/json" ? body : JSON.stringify(body),
        credentials: "same-origin", cache: "no-store", signal: stalled.signal,
      });
    } catch (err) {
      const why = stalled.signal.aborted ? `in ${ANSWER_WITHIN_MS / 1000} s; nothing on this page is lost, ` +
        "try again" : `(${err.message})`;
      throw new ServiceError(0, "unreachable", `the service did not answer ${why}`);
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      if (response.ok) throw new ServiceError(response.status, "bad_response", "the answer was not JSON");
    }
    if (!response.ok) {
      const code = (data && data.error) || `HTTP ${response.status}`;
      throw new ServiceError(response.status, code, data && data.detail);
    }
    return data;
  }

  function say(message, kind) {
    ui.status.textContent = message;
    ui.status.className = "status" + (kind ? " " + kind : "");
  }

  function fail(what, err) {
    let message = `${what} failed: ${err.message}`;
    if (needsKey(err)) {  // a key entered was refused: saying "enter the key" did not tell
      message += ui.apiKey.value ? " The API key entered under Service settings was refused: check it."
        : " Enter the service's API key under Service settings.";
      ui.service.open = true;
    }
    say(message, "error");
  }

  // -- labels -------------------------------------------------------------------------------

  // A label the page did not know yet; rows already drawn get its chip too (a label only the
  // store knows arrives after the rows).
  function addLabel(label) {
    if (state.labels.includes(label)) return;
    state.labels.push(label);
    for (const li of state.rows) li.querySelector(".quick").append(makeChip(label));
  }

  function labelClass(label) {
    return STANDARD_LABELS.includes(label) ? `label-${label}` : "label-other";
  }

  function keyOf(label) {
    const i = state.labels.indexOf(label);
    return i >= 0 && i < MAX_KEYED_LABELS ? String(i + 1) : "";
  }

  function renderLabelButtons() {
    ui.labelButtons.replaceChildren(...state.labels.map((label) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `label-button ${labelClass(label)}`;
      const key = keyOf(label);
      if (key) {
        const kbd = document.createElement("kbd");
        kbd.textContent = key;
        button.append(kbd, " ");
        button.setAttribute("aria-keyshortcuts", key);
      }
      button.append(label);
      if (MEANINGS[label]) button.title = MEANINGS[label];
      button.addEventListener("click", () => {
        applyLabel(label);
        ui.blocks.focus();  // the keys go on working on the list, not on this button
      });
      return button;
    }));
  }

  async function loadModel() {
    try {
      const model = await api("GET", "v1/model");
      ui.modelVersion.textContent = model.version;
      state.keep = model.labels[0] || state.keep;
      model.labels.filter((l) => !STANDARD_LABELS.includes(l)).forEach(addLabel);
    } catch (err) {
      ui.modelVersion.textContent = "unknown";
      fail("Asking for the model", err);
    }
    renderLabelButtons();
  }

  // -- reading the input --------------------------------------------------------------------

  function detectKind(value) {
    const chosen = ui.format.value;
    if (chosen === "html" || chosen === "text") return chosen;
    return /^\s*<[A-Za-z!?/]/.test(value) ? "html" : "text";  // "<3 love this" is text
  }

  // An HTML file's bytes as the service reads them (POST v1/decode: the library's decoding,
  // declarations read as browsers read them, else the language, the country domain or a
  // detector): decoded here by a simpler rule, a windows-1251 page declaring nothing was
  // labelled and saved as mojibake, which the model then learnt from.
  async function decodeHtml(buffer, address) {
    const url = address === undefined ? pageAddress() : address || null;
    const query = url ? `?url=${encodeURIComponent(url)}` : "";
    return (await api("POST", `v1/decode${query}`, buffer, "text/html")).html;
  }

  // A text file's bytes as text: a BOM decides, then UTF-8 if the bytes are valid UTF-8, else
  // windows-1252 (what old tools wrote).
  function decodeText(buffer) {
    const bytes = new Uint8Array(buffer);
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch (err) {
      return new TextDecoder("windows-1252").decode(bytes);
    }
  }

  // A file (gzipped or not: crawls store pages as .html.gz), labelled; it goes into the form
  // once its page is shown. The question about unsaved labels comes first, so that saying no
  // leaves the form as it was; the input is emptied either way, so that the same file can be
  // chosen again.
  async function loadFile() {
    const file = ui.file.files[0];
    ui.file.value = "";
    if (!file) return;
    if (state.dirty && !window.confirm("Your label changes are not saved. Label the new page anyway?")) return;
    const gzipped = /\.gz$/i.test(file.name);
    const name = file.name.replace(/\.gz$/i, "");
    const isText = /\.txt$/i.test(name) || (!gzipped && file.type === "text/plain");
    const stream = gzipped ? file.stream().pipeThrough(new DecompressionStream("gzip")) : file.stream();
    let buffer;
    try {
      buffer = await new Response(stream).arrayBuffer();
    } catch (err) {  // the browser's own words ("Failed to fetch") read as a network failure
      say(`Reading the file failed: ${gzipped ? `${file.name} is not gzip data` : err.message}.`, "error");
      return;
    }
    if (!buffer.byteLength) {
      say(`${file.name} is empty.`, "error");
      return;
    }
    // the address a stored page left in the form is that page's: the file has none given yet
    const url = state.storedUrl !== null && ui.url.value.trim() === state.storedUrl ? "" : undefined;
    let value;
    try {
      value = isText ? decodeText(buffer) : await decodeHtml(buffer, url);
    } catch (err) {
      fail("Labelling", err);  // as when the service refuses the page itself
      return;
    }
    if (!value.replace(/^\ufeff/, "").trim()) {
      say(`${file.name} holds no text.`, "error");
      return;
    }
    await analyse({ kind: isText ? "text" : "html", value, file: true, url }, true);
  }

  // The file's text goes into the form, and is remembered as decoded: the textarea turns CRLF
  // into LF, and the page stored from the file's bytes (say by `noisefilter bootstrap`) is found
  // and updated only by its exact text. A page opened from the store brings its address along
  // (and a file opened after it takes it away, unless the person has changed it).
  function putFileInForm(doc) {
    ui.doc.value = doc.value;
    // the file's kind (a .txt file is text even when it opens with "<"), until another
    // document replaces it in the form (`onDocumentInput`)
    ui.format.value = doc.kind;
    if (doc.url !== undefined) ui.url.value = doc.url;
    // (as the field holds it: an address field drops the spaces around a stored one)
    state.storedUrl = doc.url === undefined ? null : ui.url.value.trim();
    state.file = {
      text: doc.value, shown: ui.doc.value, kind: doc.kind, holdsFormat: true, held: true,
      last: ui.doc.value, heldFor: new Map([[textKey(ui.doc.value), true]]), chosen: false,
      chosenFor: null, docOf: new Map(), doc: 0, docs: 0, formatOf: new Map([[0, doc.kind]]),
    };
  }

  // the document in the form: the file's own text while the textarea shows it unchanged
  function formDocument() {
    const shown = ui.doc.value;
    const value = state.file && state.file.shown === shown ? state.file.text : shown;
    return { kind: detectKind(value), value };
  }

  // Another document in place of a file's puts "The input is" back to the person's own choice:
  // held to the file's kind, pasted text after an HTML file was refused as not HTML. Another
  // document is what replaces all of the file's text (typed or pasted over a selection of all
  // of it, or after the box was emptied); any other change is an edit of the file and keeps its
  // kind (a .txt file opening with "<" stays text whatever is typed over part of it), and so
  // does a choice made while the file is shown. Text back near the file's is the file's again,
  // and undo or redo bring back the kind the text they restore had. (Earlier rules guessed
  // from the text alone; the first key typed over a selection, matching the character it
  // replaced or not, decided the document's kind.)
  function onBeforeDocumentInput(event) {
    const { selectionStart, selectionEnd, value } = ui.doc;
    state.replacingAll = (event.inputType || "").startsWith("insert")
      && !value.slice(0, selectionStart).trim() && !value.slice(selectionEnd).trim();
  }

  function onDocumentInput(event) {
    const file = state.file;
    const replacedAll = state.replacingAll;
    state.replacingAll = false;
    if (!file) return;
    const now = ui.doc.value;
    const key = textKey(now);
    const fromHistory = (event.inputType || "").startsWith("history");
    if (!file.holdsFormat) {
      // the person's choice for the file holds for the file's texts, its edits included, as
      // the one for each other document, pasted or typed over all of the text, holds for it
      // and its edits: undo and redo bring back the one of the document they restore
      if (!fromHistory) putInDocument(file, key, replacedAll && now.trim());
      else if (file.docOf.has(key)) state.formatChosen = ui.format.value = documentFormat(file, key);
      return;
    }
    const before = file.last;
    file.last = now;
    const wasHeld = file.held;
    const known = fromHistory ? file.heldFor.get(key) : undefined;
    if (known !== undefined) {
      file.held = known;
    } else if (file.chosen && (replacedAll ? now.trim() : !file.held)) {
      // a document put into the box after a format was chosen for it, and its edits, are that
      // choice's, even the file's own text pasted or typed back (the next rule gave it the
      // file's kind over the person's choice)
      file.held = false;
    } else if (sharedEnds(now, file.shown) >= Math.max(now.length, file.shown.length) / 2) {
      file.held = true;
    } else if (replacedAll && now.trim()) {
      // (emptying the box is no change of kind: Chromium undoes a run of Backspaces in a few
      // steps, to texts between the file's and the empty box that were never recorded; the
      // change is recorded at the first text put into the emptied box, an undo step of its own)
      file.held = false;
    }
    // the format chosen for each other document, whichever of its versions it was chosen
    // on, brought back by undo and redo (the last choice, made for a later document, was
    // shown for it; then the one made for the version restored, not a later one)
    if (fromHistory && file.docOf.has(key)) {
      state.formatChosen = documentFormat(file, key);
    } else if (!fromHistory && !file.held) {
      putInDocument(file, key, replacedAll && now.trim());
    }
    if (file.held !== wasHeld) {
      // an undo goes back to the text before a change of kind, a redo to the one after it;
      // the texts between two changes have the kind of the change before them
      file.heldFor.set(textKey(before), wasHeld);
      file.heldFor.set(key, file.held);
    } else if (!fromHistory && file.heldFor.size > 1) {
      // a text back in the box by an edit has this kind now, whatever it had before
      if (file.heldFor.has(key)) file.heldFor.set(key, file.held);
    }
    // the file's text in the box (back by an undo step toward it, or edited): a choice made
    // for the emptied box or another document was not its; the emptied box, the file's too,
    // keeps the choice made there, and gets it back when undo or redo return to it, unless an
    // edit made since the choice was undone took that box out of their reach (all emptied
    // boxes are one text: a later one took the choice back, and its format)
    if (!fromHistory && !file.chosen && file.chosenFor !== null) {
      file.docOf.delete(file.chosenFor);
      file.chosenFor = null;
    }
    if (file.held && now.trim()) file.chosen = false;
    else if (fromHistory && !now.trim() && file.chosenFor === key) file.chosen = true;
    ui.format.value = file.held && !file.chosen ? file.kind : state.formatChosen;
  }

  // The box's text `key`, put there by the person: another document (`isNew`: typed or pasted
  // over all of the text, or into the emptied box), with the format the selector shows, or an
  // edit of the one shown.
  function putInDocument(file, key, isNew) {
    if (isNew) {
      file.docs += 1;
      file.doc = file.docs;
      file.formatOf.set(file.doc, state.formatChosen);
    }
    file.docOf.set(key, file.doc);
  }

  // the format of the document the text `key` belongs to, now the shown one again
  function documentFormat(file, key) {
    file.doc = file.docOf.get(key);
    return file.formatOf.get(file.doc);
  }

  // A text as `heldFor` knows it, without keeping a copy of a page of megabytes: its length
  // and a hash (FNV-1a) of all of it (two fetches of one page can differ only in a nonce).
  function textKey(text) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    return `${text.length}:${hash >>> 0}`;
  }

  // how many characters `a` and `b` share at their start and, after it, at their end
  function sharedEnds(a, b) {
    const shorter = Math.min(a.length, b.length);
    let start = 0;
    while (start < shorter && a[start] === b[start]) start += 1;
    let end = 0;
    while (end < shorter - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end += 1;
    return start + end;
  }

  // a format chosen by hand is the person's: for the file while the form shows it (its kind is
  // then no longer held to it), else for the other document, or the one about to be put into
  // the emptied box (`chosen`), the file's kinds kept for undo
  function onFormatChange() {
    state.formatChosen = ui.format.value;
    const file = state.file;
    if (!file) return;
    const shown = ui.doc.value;
    const key = textKey(shown);
    if (file.held && shown.trim()) {
      if (file.holdsFormat) {
        file.holdsFormat = false;
        file.doc = 0;
        file.docOf.set(key, 0);
        // and the file's texts undo and redo can reach from another document (as opened, and
        // either side of a change of kind): the last document's format stayed for them
        for (const [k, held] of file.heldFor) if (held && !file.docOf.has(k)) file.docOf.set(k, 0);
      }
    } else {
      file.chosen = true;
      if (!shown.trim()) {
        putInDocument(file, key, true);
        file.chosenFor = key;
      }
    }
    file.formatOf.set(file.doc, ui.format.value);
  }

  // The page's address as the form has it now (null if none), read when it is used so that a
  // corrected field counts. Checked here, as plain text sends no address to /v1/clean, so a bad
  // one would otherwise be refused only when the page is saved.
  function pageAddress() {
    const url = ui.url.value.trim();
    if (!url) return null;
    if (!ABSOLUTE_URL.test(url)) {
      ui.url.focus();
      throw new Error(`the page address "${url}" is not an absolute URL (scheme://host/…).`);
    }
    return url;
  }

  // -- labelling the page -------------------------------------------------------------------

  // `doc`: {kind, value, file: true for a file or stored page not yet in the form, url: a stored
  // page's address (none: the form's)}; `asked`: the question
  // about unsaved labels was asked already. The labels on screen count as unsaved until the
  // new page is shown: a page the service refuses leaves them, and the form, as they were.
  async function analyse(doc = formDocument(), asked = false) {
    if (!doc.value.trim()) {
      say("Paste a page or open a file first.", "error");
      ui.doc.focus();
      return;
    }
    if (!asked && state.dirty && !window.confirm("Your label changes are not saved. Label the new page anyway?")) return;
    // the page shown is the one asked for last (a slow answer for an earlier one replaced it),
    // and labels given while it is on its way are asked about again (they were lost unasked)
    const asking = (state.labelling += 1);
    const edits = state.edits;
    ui.analyse.disabled = true;
    say("Labelling…");
    let shown = null;
    try {
      const url = doc.url === undefined ? pageAddress() : doc.url || null;
      // plain text has no links, so the service takes a URL only with HTML; the example keeps it
      const request = doc.kind === "html" ? { html: doc.value, url, blocks: true } : { text: doc.value, blocks: true };
      const result = await api("POST", "v1/clean", request);
      await modelLoaded;  // the model's own labels get their chips on the blocks
      if (asking !== state.labelling) return;  // a page asked for later shows instead
      if (state.edits !== edits && state.dirty
          && !window.confirm("You gave labels while the new page was being labelled; they are not saved. Show the new page anyway?")) {
        say("The new page was not shown: your labels are still here to save.", "error");
        return;
      }
      if (doc.file) putFileInForm(doc);
      showResult({ kind: doc.kind, value: doc.value, url }, result);
      shown = state.doc;
    } catch (err) {
      if (asking === state.labelling) fail("Labelling", err);
    } finally {
      if (asking === state.labelling) ui.analyse.disabled = false;
    }
    // after the page is shown: the next page can be labelled while its saved labels load
    if (shown) await showStoredLabels(shown);
  }

  function showResult(doc, result) {
    state.doc = doc;
    state.blocks = result.blocks.map((b) => ({
      text: b.text, kind: b.kind, score: b.score, model: b.label, label: b.label,
      restored: b.extracted === false, reviewed: false, by: `model:${result.model_version}`,
      at: null,
    }));
    state.rows = [];  // the old page's rows, about to go, need no chips for this page's labels
    state.blocks.forEach((b) => addLabel(b.label));
    renderLabelButtons();
    state.rows = state.blocks.map(makeRow);
    ui.blocks.replaceChildren(...state.rows);
    ui.modelVersion.textContent = result.model_version;
    state.undo = [];
    setDirty(false);
    ui.result.hidden = false;
    if (state.blocks.length) {
      select(0, 0, 0);
      ui.blocks.focus();
    } else {
      state.active = state.anchor = state.selStart = state.selEnd = -1;
      ui.blocks.removeAttribute("aria-activedescendant");
    }
    refresh();
    say(state.blocks.length
      ? `${labelledByModel()}.`
      : `No blocks: ${result.empty_reason || "the page has no text"}.`, state.blocks.length ? "" : "error");
  }

  // The labels saved before for this very document (the store finds it by the sha256 of its
  // kind and text, whatever its id), matched to the blocks shown by the service as training
  // matches them (also the second copy of a text labelled once, the lines of a paragraph
  // labelled whole): a page opened again shows what is stored, not the model's labels once
  // more. When they cannot be looked up the model's labels stay, and the status line says why.
  async function showStoredLabels(doc) {
    state.lookupNeedsKey = false;
    if (!state.blocks.length) return;
    if (!(window.crypto && crypto.subtle)) {
      // browsers hash only in a secure context; computing SHA-256 here is not worth its code
      notLookedUp("cannot be looked up here: the browser hashes the page only on a secure " +
        "page, so open this page on localhost or over https");
      return;
    }
    let found;
    try {
      found = await api("POST", "v1/examples/labels", {
        document: await documentHash(doc), blocks: state.blocks.map((b) => b.text),
      });
    } catch (err) {
      if (state.doc !== doc) return;
      state.lookupNeedsKey = needsKey(err);
      if (state.lookupNeedsKey) ui.service.open = true;
      notLookedUp(state.lookupNeedsKey
        ? "are looked up once the service's API key is entered under Service settings"
        : `cannot be looked up: ${err.message}`);
      return;
    }
    if (found.id !== null && state.doc === doc) applyStoredLabels(found);
  }

  async function documentHash(doc) {
    const bytes = new TextEncoder().encode(`${doc.kind}\u0000${doc.value}`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  }

  function labelledByModel() {
    return `${count(state.blocks.length, "block")} labelled by model ${ui.modelVersion.textContent}`;
  }

  function notLookedUp(why) {
    say(`${labelledByModel()}; the labels saved before ${why}.`, "error");
  }

  // A block the person labelled while the lookup ran keeps that label: it is the newer one.
  // Each stored label keeps who gave it and when: saved again unchanged, it then cannot undo a
  // correction someone else saved since (the store keeps the newer label).
  function applyStoredLabels(found) {
    let applied = 0;
    let kept = 0;
    state.blocks.forEach((block, i) => {
      const saved = found.blocks[i];
      if (!saved) return;
      if (block.by === null) {  // labelled here while the lookup ran
        kept += 1;
        return;
      }
      block.label = saved.label;
      block.reviewed = saved.reviewed !== false;
      block.by = saved.labelled_by;
      block.at = saved.labelled_at || null;
      addLabel(saved.label);
      applied += 1;
      paintRow(i);
    });
    renderLabelButtons();
    refresh();
    say(`${labelledByModel()}; ${count(applied, "label")} as saved before (${found.id})` +
      (kept ? `; ${count(kept, "block")} you labelled meanwhile kept your label.` : "."));
  }

  function makeRow(block, i) {
    const li = document.createElement("li");
    li.id = `block-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");

    const meta = document.createElement("span");
    meta.className = "meta";
    const name = document.createElement("span");
    name.className = "label-name";
    const score = document.createElement("span");
    score.className = "score";
    score.title = "The model's confidence in its label";
    const kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = block.restored ? `${block.kind}, restored` : block.kind;
    if (block.restored) kind.title = "trafilatura left this block out; noisefilter restored it";
    meta.append(name, " ", score, " ", kind);

    const text = document.createElement("span");
    text.className = "text";
    text.dir = "auto";  // a right-to-left block lays out from the right
    text.textContent = block.text;

    // one click relabels a block; keyboard and screen-reader users have the keys and the
    // toolbar instead, so these mouse targets are hidden from assistive technology
    const quick = document.createElement("span");
    quick.className = "quick";
    quick.setAttribute("aria-hidden", "true");
    quick.append(...state.labels.map(makeChip));
    li.append(meta, text, quick);
    paintRow(i, li);
    return li;
  }

  function makeChip(label) {
    const chip = document.createElement("span");
    chip.className = `chip ${labelClass(label)}`;
    chip.dataset.label = label;
    chip.title = `Label this block ${label}` + (MEANINGS[label] ? `: ${MEANINGS[label]}` : "");
    chip.textContent = label.charAt(0).toUpperCase();
    return chip;
  }

  // the parts of a row that change with its label
  // Whether labels on the page are not saved, shown for as long as it holds (beside Save and
  // in the tab's title): the status line said so once, and the next key replaced it
  function setDirty(dirty) {
    state.dirty = dirty;
    ui.unsaved.hidden = !dirty;
    document.title = (dirty ? "• " : "") + document.title.replace(/^• /, "");
  }

  function paintRow(i, li = state.rows[i]) {
    const block = state.blocks[i];
    const changed = block.label !== block.model;
    li.className = `block ${labelClass(block.label)}${changed ? " changed" : ""}` +
      (block.reviewed ? " reviewed" : "") + (i === state.active ? " active" : "");
    li.querySelector(".label-name").textContent = block.label;
    // the model's label beside another one: "was" read as this visit's change on a page
    // whose stored labels were opened again
    li.querySelector(".score").textContent = changed
      ? `model: ${block.model} ${block.score.toFixed(2)}` : block.score.toFixed(2);
    for (const chip of li.querySelectorAll(".chip")) {
      chip.classList.toggle("on", chip.dataset.label === block.label);
    }
  }

  // summary line and clean text: what the filter keeps with the labels as they are now
  function refresh() {
    const counts = new Map();
    let changed = 0;
    let reviewed = 0;
    for (const b of state.blocks) {
      counts.set(b.label, (counts.get(b.label) || 0) + 1);
      if (b.label !== b.model) changed += 1;
      if (b.reviewed) reviewed += 1;
    }
    const parts = state.labels.filter((l) => counts.has(l)).map((l) => `${l} ${counts.get(l)}`);
    ui.summary.textContent = [count(state.blocks.length, "block"), parts.join(", "),
      changed ? `${changed} corrected` : "", `${reviewed} reviewed`].filter(Boolean).join(" · ");
    ui.cleanText.textContent = state.blocks.filter((b) => b.label === state.keep).map((b) => b.text).join("\n");
    ui.save.disabled = state.blocks.length === 0;
  }

  // -- selection ----------------------------------------------------------------------------

  function select(active, from, to) {
    state.active = active;
    state.selStart = Math.min(from, to);
    state.selEnd = Math.max(from, to);
    state.rows.forEach((li, i) => {
      li.setAttribute("aria-selected", String(i >= state.selStart && i <= state.selEnd));
      li.classList.toggle("active", i === active);
    });
    ui.blocks.setAttribute("aria-activedescendant", state.rows[active].id);
    state.rows[active].scrollIntoView({ block: "nearest" });
  }

  function moveTo(i, extend) {
    const target = Math.max(0, Math.min(state.blocks.length - 1, i));
    if (!extend) state.anchor = target;
    select(target, state.anchor, target);
  }

  // The block one list-height away from block `i` (`dir` 1: down, -1: up), the farthest whose
  // top is still within it; at least the next one. A long page took a key press per block.
  function pageFrom(i, dir) {
    const height = ui.blocks.clientHeight;
    const top = state.rows[i].offsetTop;
    let j = i;
    while (state.rows[j + dir] && Math.abs(state.rows[j + dir].offsetTop - top) < height) j += dir;
    return j === i ? i + dir : j;
  }

  function applyLabel(label) {
    if (state.selStart < 0) return;
    state.undo.push({ from: state.selStart, to: state.selEnd, before: state.blocks
      .slice(state.selStart, state.selEnd + 1)
      .map(({ label: was, reviewed, by, at }) => ({ label: was, reviewed, by, at })) });
    for (let i = state.selStart; i <= state.selEnd; i += 1) {
      state.blocks[i].label = label;
      state.blocks[i].reviewed = true;
      state.blocks[i].by = null;  // the name under Service settings
      state.blocks[i].at = null;  // given now
      paintRow(i);
    }
    const count = state.selEnd - state.selStart + 1;
    state.edits += 1;
    setDirty(true);
    refresh();
    say(count === 1 ? `Block ${state.selStart + 1}: ${label}.` : `Blocks ${state.selStart + 1}–${state.selEnd + 1}: ${label}.`);
    // go on to the next block, so a page is reviewed top to bottom with one key per block
    if (state.selEnd + 1 < state.blocks.length) moveTo(state.selEnd + 1, false);
  }

  // Takes the last label action back: its blocks get the labels they had, with who gave them
  // and when (a stored label a person gave is theirs again, and a save leaves it as it is)
  function undo() {
    const last = state.undo.pop();
    if (!last) {
      say("Nothing to undo.");
      return;
    }
    last.before.forEach((was, k) => {
      Object.assign(state.blocks[last.from + k], was);
      paintRow(last.from + k);
    });
    state.edits += 1;
    setDirty(true);
    refresh();
    state.anchor = last.from;
    select(last.to, last.from, last.to);
    const run = last.from === last.to ? `block ${last.from + 1}` : `blocks ${last.from + 1}–${last.to + 1}`;
    say(`Undone: ${run} as before.`);
  }

  function onBlocksKey(event) {
    if (!state.blocks.length || event.altKey) return;
    const ctrl = event.ctrlKey || event.metaKey;
    const last = state.blocks.length - 1;
    let handled = true;
    if (event.key === "ArrowDown") moveTo(state.active + 1, event.shiftKey);
    else if (event.key === "ArrowUp") moveTo(state.active - 1, event.shiftKey);
    else if (event.key === "Home") moveTo(0, event.shiftKey);
    else if (event.key === "End") moveTo(last, event.shiftKey);
    else if (event.key === "PageDown") moveTo(pageFrom(state.active, 1), event.shiftKey);
    else if (event.key === "PageUp") moveTo(pageFrom(state.active, -1), event.shiftKey);
    else if (ctrl && event.key.toLowerCase() === "a") { state.anchor = 0; select(state.active, 0, last); }
    else if (ctrl && !event.shiftKey && event.key.toLowerCase() === "z") undo();
    else if (!ctrl && /^[1-9]$/.test(event.key) && Number(event.key) <= state.labels.length) {
      applyLabel(state.labels[Number(event.key) - 1]);
    } else handled = false;
    if (handled) event.preventDefault();
  }

  function onBlocksClick(event) {
    const li = event.target.closest("li[role=option]");
    if (!li) return;
    const i = state.rows.indexOf(li);
    const chip = event.target.closest(".chip");
    if (chip) {
      // a label clicked on a block labels that block, or the whole selection it belongs to
      if (i < state.selStart || i > state.selEnd) moveTo(i, false);
      applyLabel(chip.dataset.label);
    } else {
      moveTo(i, event.shiftKey);
    }
    ui.blocks.focus();
  }

  // -- saving -------------------------------------------------------------------------------

  // Blocks a person labelled are saved as reviewed; the others as the model's proposals
  // (unreviewed), which the store never lets overwrite a label a person gave before, so saving a
  // page again with a few new corrections keeps the earlier ones.
  //
  // A save takes a while (seconds on a long page, up to a minute when the store is busy), and
  // the person may go on labelling meanwhile, or open another page. What the answer settles is
  // only what was sent: the page stays unsaved when a label was given since (a second save
  // sends it), a block gets the store's time only if it still has the label that was sent, and
  // an answer for a page no longer shown changes nothing on the page now shown.
  async function save() {
    if (!state.doc || !state.blocks.length || state.saving) return;
    ui.save.disabled = true;
    state.saving = true;
    const doc = state.doc;
    const edits = state.edits;
    // the blocks as sent, with the label each had then
    const sent = state.blocks.map((b) => ({ block: b, label: b.label, by: b.by, at: b.at }));
    let answered = false;
    say("Saving…");
    try {
      const example = { source: EXAMPLE_SOURCE, blocks: state.blocks.map(blockToSave) };
      example[doc.kind] = doc.value;
      // the field's address, corrected or not, while the form holds this page; once another
      // page is in the form (typed, or refused by the service), the one it was labelled with:
      // the field then names that other page, and the example was stored under its address
      const inForm = formDocument().value === doc.value;
      const url = inForm ? pageAddress() : doc.url;
      if (url) example.url = url;
      const field = ui.url.value.trim();
      const elsewhere = !inForm && field && field !== (url || "");
      const body = { examples: [example] };
      const by = ui.labelledBy.value.trim();
      if (by) body.labelled_by = by;
      const answer = await api("POST", "v1/examples", body);
      answered = true;
      // another page is shown now: its labels are not the ones saved
      if (state.doc === doc) settleSave(answer, sent, edits, url, elsewhere);
    } catch (err) {
      if (state.doc === doc) fail("Saving", err);
      else fail("Saving the page shown before", err);
    } finally {
      state.saving = false;
      ui.save.disabled = state.blocks.length === 0;
    }
    // after the save is over: a save asked for while the list loads goes out at once
    if (answered) await listSaved(true);
  }

  // What a save's answer settles on the page it saved: whether labels given since are still
  // unsaved, the store's time on the blocks it stored as sent, and the status line.
  function settleSave(answer, sent, edits, url, elsewhere) {
    const r = answer.report;
    setDirty(state.edits !== edits);
    // the labels given here now carry the time the store gave them, as loaded labels do; a
    // block labelled again since keeps no time (its new label is not stored yet)
    for (const s of sent) {
      const b = s.block;
      if (s.by === null && !s.at && b.reviewed && b.by === null && !b.at && b.label === s.label) {
        b.at = answer.labelled_at;
      }
    }
    let message = answer.ids[0] === null ? "Not saved: no block with a label." :
      `Saved as ${answer.ids[0]}: ${count(r.labels_added, "label")} added, ` +
      `${r.labels_changed} changed, ${r.labels_confirmed} confirmed, ${r.labels_unchanged} unchanged.`;
    if (answer.ids[0] !== null && elsewhere) {
      message += ` It keeps ${url ? `the address it was labelled with, ${url}` : "no address, as " +
        "it was labelled without one"}: the form holds another page now.`;
    }
    if (r.labels_kept) {
      // which blocks, numbered as the list numbers them (one example was sent)
      const kept = (Object.values(r.kept || {})[0] || []).map((i) => i + 1);
      const which = kept.length === 1 ? ` (block ${kept[0]})`
        : kept.length ? ` (blocks ${kept.join(", ")})` : "";
      message += ` ${count(r.labels_kept, "label")} not applied${which}: the store holds a ` +
        "newer or reviewed label there (open the page again to see it).";
    }
    if (answer.problems.length) {
      message += " Not stored as given: " + answer.problems.map((p) => p.message).join("; ");
    }
    if (state.dirty) {
      message += " The labels given while it was saving are not saved yet: save again.";
    }
    say(message, answer.problems.length || r.labels_kept || state.dirty ? "error" : "ok");
  }

  // A label the person gave here goes without a labelled_by of its own (the request's, the name
  // under Service settings, applies to it); any other names who gave it, so the store never
  // records the model's proposal (`model:<version>`, as `noisefilter bootstrap` writes it) or an
  // earlier labeller's label under this person's name.
  function blockToSave(b) {
    const block = { text: b.text, label: b.label, reviewed: b.reviewed };
    if (b.by) block.labelled_by = b.by;
    if (b.at) block.labelled_at = b.at;
    return block;
  }

  // -- saved examples -----------------------------------------------------------------------

  function labelCounts(example) {
    const counts = new Map();
    for (const b of example.blocks) counts.set(b.label, (counts.get(b.label) || 0) + 1);
    return [...counts].map(([label, n]) => `${label} ${n}`).join(", ");
  }

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  // `text` cut after `count` characters as a reader counts them, with "…": a flag or an emoji
  // cut in two showed as a broken glyph
  function cutAt(text, count) {
    const chars = window.Intl && Intl.Segmenter
      ? Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (g) => g.segment)
      : Array.from(text);
    return chars.length > count ? `${chars.slice(0, count).join("")}…` : text;
  }

  function savedRow(example) {
    const tr = document.createElement("tr");
    const first = example.blocks.length ? example.blocks[0].text : "";
    const page = example.url || first;
    // a page without an address shows the start of its first block: a whole paragraph made
    // a row thousands of pixels high in a narrow window, where cells wrap (an address is
    // shown whole: two pages of a site may differ only at its end)
    const shown = example.url ? page : cutAt(page, PAGE_CELL_CHARS);
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = "Open";
    // "Open" alone, read out of its row, would not say which of twenty pages it opens
    open.setAttribute("aria-label", `Open ${page || example.id}`);
    open.addEventListener("click", () => openStored(example).catch((err) => fail("Opening the page", err)));
    const action = document.createElement("td");
    action.append(open);
    const pageCell = cell(shown, "page");
    pageCell.title = page;
    tr.append(cell(example.id, "id"), pageCell, cell(example.source || ""),
      cell(labelCounts(example)), action);
    return tr;
  }

  // A stored page opens as if its file were opened: its document exactly as stored (the same
  // hash, so the lookup brings its labels back and Save updates it rather than adding a page)
  // and its address go into the form once the service has labelled it. How a page stored by
  // `noisefilter bootstrap` gets its unreviewed proposals checked without its original file.
  async function openStored(example) {
    if (state.dirty && !window.confirm("Your label changes are not saved. Label the new page anyway?")) return;
    const kind = typeof example.html === "string" ? "html" : "text";
    await analyse({ kind, value: example[kind], url: example.url || "", file: true }, true);
  }

  // the list's query: every page, or only those with labels a person has still to check
  function savedQuery(offset) {
    return `v1/examples?offset=${offset}${ui.toReview.checked ? "&reviewed=false" : ""}`;
  }

  // true when the list could be read. Only the latest request's answer is shown: a second
  // click on "Show more" before the first answer came asked for the same rows again.
  async function listSaved(fromStart) {
    const offset = fromStart ? 0 : state.savedOffset;
    const request = (state.listing += 1);
    if (!fromStart) ui.more.disabled = true;
    try {
      const page = await api("GET", savedQuery(offset));
      if (request !== state.listing) return true;  // a newer request's answer shows instead
      const rows = page.examples.map(savedRow);
      if (fromStart) ui.saved.replaceChildren(...rows);
      else ui.saved.append(...rows);
      state.savedOffset = page.next_offset;
      ui.more.hidden = page.next_offset === null;
      ui.savedCount.textContent = `(${count(page.store.pages, "page")}, ${count(page.store.labels, "label")})`;
      return true;
    } catch (err) {
      if (request === state.listing) fail("Listing the saved examples", err);
      return false;
    } finally {
      if (request === state.listing) ui.more.disabled = false;
    }
  }

  // the JSON Lines example format, as `noisefilter train --examples` reads it: fields the
  // store has no value for are left out rather than written as null
  function withoutNulls(value) {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]));
    }
    return value;
  }

  // One line of the export. JSON.stringify leaves U+0085, U+2028 and U+2029 raw in strings,
  // and a reader splitting the file with Python's `str.splitlines` (editors too) cut such a
  // line in two (25 of WCXB-dev's 1,497 pages hold one). Escaped, they read back the same.
  const OTHER_LINE_BREAKS = /[\u0085\u2028\u2029]/g;
  function exportLine(example) {
    return JSON.stringify(withoutNulls(example))
      .replace(OTHER_LINE_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) + "\n";
  }

  async function exportAll() {
    ui.exportButton.disabled = true;
    say("Exporting…");
    try {
      const lines = [];
      for (let offset = 0; offset !== null;) {
        // pages of the service's default size, whatever its largest allowed one
        const page = await api("GET", `v1/examples?offset=${offset}`);
        for (const example of page.examples) lines.push(exportLine(example));
        offset = page.next_offset;
      }
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob(lines, { type: "application/x-ndjson" }));
      link.download = `noisefilter-examples-${new Date().toISOString().slice(0, 10)}.jsonl`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      say(`Exported ${count(lines.length, "example")} to ${link.download}.`, "ok");
    } catch (err) {
      fail("Exporting", err);
    } finally {
      ui.exportButton.disabled = false;
    }
  }

  // -- wiring -------------------------------------------------------------------------------

  function remembered() {
    try {
      return window.localStorage.getItem("noisefilter.labelledBy") || "";
    } catch (err) {
      return "";  // storage can be switched off; the name is then simply not remembered
    }
  }

  function remember() {
    try {
      window.localStorage.setItem("noisefilter.labelledBy", ui.labelledBy.value.trim());
    } catch (err) {
      // see remembered()
    }
  }

  ui.form.addEventListener("submit", (event) => { event.preventDefault(); analyse(); });
  ui.file.addEventListener("change", () => loadFile().catch((err) => fail("Reading the file", err)));
  ui.doc.addEventListener("beforeinput", onBeforeDocumentInput);
  ui.doc.addEventListener("input", onDocumentInput);
  ui.format.addEventListener("change", onFormatChange);
  ui.blocks.addEventListener("keydown", onBlocksKey);
  ui.blocks.addEventListener("click", onBlocksClick);
  ui.save.addEventListener("click", save);
  ui.refresh.addEventListener("click", () => listSaved(true));
  ui.more.addEventListener("click", () => listSaved(false));
  ui.toReview.addEventListener("change", () => listSaved(true));
  ui.exportButton.addEventListener("click", exportAll);
  ui.labelledBy.value = remembered();
  ui.labelledBy.addEventListener("change", remember);
  ui.apiKey.addEventListener("change", async () => {  // the list needs the key too
    const key = ui.apiKey.value;
    // (a late answer for a key changed since says nothing of the one the field holds now)
    if (!(await listSaved(true)) || ui.apiKey.value !== key) return;
    say("API key accepted.", "ok");
    if (state.lookupNeedsKey) await showStoredLabels(state.doc);
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s" && !ui.result.hidden) {
      event.preventDefault();
      save();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (state.dirty) event.preventDefault();
  });

  renderLabelButtons();
  const modelLoaded = loadModel();
  listSaved(true);
})();
