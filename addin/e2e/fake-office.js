// A stand-in for office.js in the end-to-end tests: just the Office, OfficeRuntime, Word and Excel surface the
// adapters use, over an in-memory document or workbook that the test (and the host page beside the pane) can read.
// The host page puts the initial state in window.parent.__E2E_STATE__ = {host: "Word"|"Excel", ...}.
(function () {
  "use strict";
  const state = (window.parent && window.parent.__E2E_STATE__) || { host: "Word", paragraphs: [""], selection: [0, 0] };
  const log = [];

  // ---- Word: a document of paragraphs; the selection is a run of whole paragraphs [first, last]. Beside each
  // paragraph's text: its style ("Normal", "Heading 1", "List Bullet", ...) and its formatted runs ({format, text}),
  // as Word's HTML import makes them from insertHtml. ----
  const paragraphs = state.paragraphs ? state.paragraphs.slice() : [];
  const doc = {
    paragraphs,
    styles: paragraphs.map(() => "Normal"),
    runs: paragraphs.map(() => []),
    selection: state.selection || [0, 0],
    comments: [],
    trackingMode: "Off",
    tracked: [],
  };

  /** Put `blocks` ({text, style, runs}) in place of `count` paragraphs from `at`. */
  function spliceParagraphs(at, count, blocks) {
    doc.paragraphs.splice(at, count, ...blocks.map((b) => b.text));
    doc.styles.splice(at, count, ...blocks.map((b) => b.style || "Normal"));
    doc.runs.splice(at, count, ...blocks.map((b) => b.runs || []));
  }

  const HEADINGS = { H1: "Heading 1", H2: "Heading 2", H3: "Heading 3", H4: "Heading 4", H5: "Heading 5", H6: "Heading 6" };
  const RUN_FORMATS = { STRONG: "bold", B: "bold", EM: "italic", I: "italic", CODE: "code", A: "hyperlink", DEL: "strikethrough" };
  /** Word's HTML import, roughly: each heading, paragraph, list item, preformatted block and table row becomes a
   * paragraph with the matching built-in style; strong, em, code and links become formatted runs. The HTML is parsed
   * inertly (DOMParser runs no script and loads no image). */
  function htmlBlocks(html) {
    const body = new window.DOMParser().parseFromString(html, "text/html").body;
    const unsafe = [...body.querySelectorAll("*")].some((e) => /^(SCRIPT|IMG|IFRAME|OBJECT|EMBED|STYLE)$/.test(e.tagName) || e.getAttributeNames().some((name) => name.startsWith("on")));
    if (unsafe) log.push({ op: "unsafe-html", html }); // markup that would run or load something: a test fails on it
    const blocks = [];
    for (const element of body.querySelectorAll("h1, h2, h3, h4, h5, h6, p, li, pre, tr")) {
      if (element.tagName === "P" && element.closest("li")) continue; // a loose list's item is the paragraph
      const own = element.cloneNode(true);
      own.querySelectorAll("ul, ol").forEach((nested) => nested.remove()); // nested items are their own paragraphs
      const list = element.tagName === "LI" ? (element.parentElement.tagName === "OL" ? "List Number" : "List Bullet") : null;
      const style = HEADINGS[element.tagName] || list || (element.closest("blockquote") ? "Quote" : "Normal");
      const text = element.tagName === "TR" ? [...own.children].map((cell) => cell.textContent).join("\t") : own.textContent.replace(/\n$/, "");
      const runs = [...own.querySelectorAll(Object.keys(RUN_FORMATS).join(", "))].map((run) => ({ format: RUN_FORMATS[run.tagName], text: run.textContent }));
      blocks.push({ text, style, runs });
    }
    return blocks;
  }

  function paragraphRange(index) {
    return {
      get text() { return doc.paragraphs[index]; },
      insertText(text, location) {
        log.push({ op: "paragraph.insertText", index, location });
        doc.paragraphs[index] = text;
        return paragraphRange(index);
      },
      insertHtml(html, location) {
        if (location !== "Replace") throw new Error(`The fake inserts HTML into a paragraph only with Replace, not ${location}`);
        log.push({ op: "paragraph.insertHtml", index, location, html });
        spliceParagraphs(index, 1, htmlBlocks(html));
        return paragraphRange(index);
      },
    };
  }

  function textRange(index, start, length) {
    return {
      insertText(text, location) {
        const before = doc.paragraphs[index];
        doc.paragraphs[index] = before.slice(0, start) + text + before.slice(start + length);
        if (doc.trackingMode !== "Off") doc.tracked.push({ from: before.slice(start, start + length), to: text });
        log.push({ op: "range.insertText", index, location });
        return textRange(index, start, text.length);
      },
      insertComment(text) {
        doc.comments.push({ paragraph: index, text });
      },
    };
  }

  function search(first, last, needle, options) {
    const items = [];
    for (let i = first; i <= last; i++) {
      const haystack = options && options.matchCase === false ? doc.paragraphs[i].toLowerCase() : doc.paragraphs[i];
      const target = options && options.matchCase === false ? needle.toLowerCase() : needle;
      let at = haystack.indexOf(target);
      while (at !== -1) {
        items.push(textRange(i, at, needle.length));
        at = haystack.indexOf(target, at + needle.length);
      }
    }
    return { items, load() { return this; } };
  }

  function selectionRange() {
    const [first, last] = doc.selection;
    return {
      get text() { return doc.paragraphs.slice(first, last + 1).join("\r"); },
      load() { return this; },
      get paragraphs() {
        const items = [];
        for (let i = first; i <= last; i++) items.push(paragraphRange(i));
        return { items, load() { return this; } };
      },
      insertParagraph(text, location) {
        const at = location === "Before" ? first : last + 1;
        spliceParagraphs(at, 0, [{ text }]);
        log.push({ op: "insertParagraph", at, location });
        return paragraphRange(at);
      },
      insertText(text, location) {
        if (location === "Replace") {
          spliceParagraphs(first, last - first + 1, [{ text }]);
          doc.selection = [first, first];
        } else if (location === "After" || location === "End") doc.paragraphs[last] += text;
        else doc.paragraphs[first] = text + doc.paragraphs[first];
        log.push({ op: "selection.insertText", location });
        return selectionRange();
      },
      insertHtml(html, location) {
        if (location !== "Replace") throw new Error(`The fake inserts HTML over the selection only with Replace, not ${location}`);
        const blocks = htmlBlocks(html);
        spliceParagraphs(first, last - first + 1, blocks);
        doc.selection = [first, first + Math.max(blocks.length, 1) - 1];
        log.push({ op: "selection.insertHtml", location, html });
        return selectionRange();
      },
      search(needle, options) { return search(first, last, needle, options); },
    };
  }

  const wordDocument = {
    get changeTrackingMode() { return doc.trackingMode; },
    set changeTrackingMode(mode) { doc.trackingMode = mode; },
    load() { return this; },
    getSelection: selectionRange,
    body: {
      get text() { return doc.paragraphs.join("\r"); },
      load() { return this; },
      search(needle, options) { return search(0, doc.paragraphs.length - 1, needle, options); },
    },
  };

  // ---- Excel: one sheet of cells keyed "A1"; each cell holds a value and a formula. ----
  const sheetName = state.sheet || "Sheet1";
  const cells = {};
  for (const [address, content] of Object.entries(state.cells || {})) cells[address] = { value: content, formula: content };
  const selectedAddress = state.selected || "A1";

  const columnIndex = (name) => [...name].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0) - 1;
  const columnName = (i) => { let s = ""; for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s; return s; };
  function parse(address) {
    const local = address.includes("!") ? address.slice(address.lastIndexOf("!") + 1) : address;
    const [a, b = a] = local.replace(/\$/g, "").split(":");
    const p = (cell) => { const m = /^([A-Z]+)(\d+)$/.exec(cell.toUpperCase()); return { r: Number(m[2]) - 1, c: columnIndex(m[1]) }; };
    const s = p(a), e = p(b);
    return { r: Math.min(s.r, e.r), c: Math.min(s.c, e.c), rows: Math.abs(e.r - s.r) + 1, cols: Math.abs(e.c - s.c) + 1 };
  }
  const key = (r, c) => `${columnName(c)}${r + 1}`;
  function grid(block, pick) {
    const rows = [];
    for (let r = 0; r < block.rows; r++) {
      const row = [];
      for (let c = 0; c < block.cols; c++) row.push(pick(cells[key(block.r + r, block.c + c)]));
      rows.push(row);
    }
    return rows;
  }
  function setGrid(block, data, asFormula) {
    if (data.length !== block.rows || data.some((row) => row.length !== block.cols)) throw new Error("The number of rows or columns in the input array doesn't match the size or dimensions of the range.");
    data.forEach((row, r) => row.forEach((v, c) => {
      const formula = String(v);
      cells[key(block.r + r, block.c + c)] = asFormula && formula.startsWith("=") ? { value: "#FAKE", formula } : { value: v, formula: v };
    }));
  }
  function range(address) {
    const block = parse(address);
    const local = block.rows === 1 && block.cols === 1 ? key(block.r, block.c) : `${key(block.r, block.c)}:${key(block.r + block.rows - 1, block.c + block.cols - 1)}`;
    return {
      address: `${sheetName}!${local}`,
      rowCount: block.rows,
      columnCount: block.cols,
      isNullObject: false,
      load() { return this; },
      getIntersectionOrNullObject(other) {
        const o = parse(other.address);
        const r0 = Math.max(block.r, o.r), c0 = Math.max(block.c, o.c);
        const r1 = Math.min(block.r + block.rows, o.r + o.rows) - 1, c1 = Math.min(block.c + block.cols, o.c + o.cols) - 1;
        return other.isNullObject || r1 < r0 || c1 < c0 ? nullRange() : range(`${key(r0, c0)}:${key(r1, c1)}`);
      },
      get values() { return grid(block, (cell) => (cell ? cell.value : "")); },
      set values(data) { log.push({ op: "values", address: local }); setGrid(block, data, false); },
      get formulas() { return grid(block, (cell) => (cell ? cell.formula : "")); },
      set formulas(data) { log.push({ op: "formulas", address: local }); setGrid(block, data, true); },
    };
  }
  function usedRange() {
    const keys = Object.keys(cells);
    if (keys.length === 0) return range("A1");
    const blocks = keys.map((k) => parse(k));
    const r0 = Math.min(...blocks.map((b) => b.r)), c0 = Math.min(...blocks.map((b) => b.c));
    const r1 = Math.max(...blocks.map((b) => b.r)), c1 = Math.max(...blocks.map((b) => b.c));
    return range(`${key(r0, c0)}:${key(r1, c1)}`);
  }
  function nullRange() {
    return { isNullObject: true, load() { return this; }, getIntersectionOrNullObject: () => nullRange() };
  }
  const usedRangeOrNull = () => (Object.keys(cells).length ? usedRange() : nullRange());
  const worksheet = { name: sheetName, getRange: range, getUsedRange: usedRange, getUsedRangeOrNullObject: usedRangeOrNull, load() { return this; } };
  const workbook = {
    use1904DateSystem: Boolean(state.use1904DateSystem), // ExcelApi 1.16; loaded with the range a skill reads
    load() { return this; },
    getSelectedRange: () => range(selectedAddress),
    worksheets: {
      items: [worksheet],
      load() { return this; },
      getItem(name) { if (name !== sheetName) throw new Error(`ItemNotFound: ${name}`); return worksheet; },
      getActiveWorksheet: () => worksheet,
    },
  };

  // ---- Office, OfficeRuntime, Word, Excel ----
  function versionAtMost(version, newest) {
    if (!newest) return false;
    const [a, b] = String(version || "1.1").split(".").map(Number);
    const [x, y] = newest.split(".").map(Number);
    return a < x || (a === x && (b || 0) <= y);
  }
  const context = { sync: () => Promise.resolve() };
  const host = state.host === "Excel" ? "Excel" : "Word";
  window.Office = {
    HostType: { Word: "Word", Excel: "Excel" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    context: {
      host,
      officeTheme: { bodyBackgroundColor: "#ffffff" },
      // The newest set of each API this fake implements what the adapters use from.
      requirements: { isSetSupported: (name, version) => versionAtMost(version, { WordApi: "1.6", ExcelApi: "1.17", DialogApi: "1.1" }[name]) },
      ui: { displayDialogAsync: (_url, _options, callback) => callback({ status: "failed", error: { code: 12007 } }) },
    },
    onReady(callback) {
      const info = { host, platform: "PC" };
      return new Promise((resolve) => setTimeout(() => { if (callback) callback(info); resolve(info); }, 0));
    },
  };
  window.OfficeRuntime = { auth: { getAccessToken: () => Promise.reject({ code: 13000, message: "No SSO in the test host" }) } };
  window.Word = { run: (callback) => callback(Object.assign({ document: wordDocument }, context)), ChangeTrackingMode: { off: "Off", trackAll: "TrackAll" } };
  window.Excel = { run: (callback) => callback(Object.assign({ workbook }, context)) };
  window.__fakeHost = { host, doc, cells, log, selectParagraphs(first, last) { doc.selection = [first, last]; } };
})();
