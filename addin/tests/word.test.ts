import { OfficeMockObject } from "office-addin-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { WordHost } from "../src/hosts/word";

type Op = Record<string, unknown>;
let ops: Op[];
let mock: any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A range stand-in returned by search(): replacing records the tracking mode in force at that moment. */
function matchRange(original: string) {
  return {
    insertText(text: string, location: string) {
      ops.push({ op: "replace", original, text, location, tracking: mock.context.document.changeTrackingMode });
      return { insertComment: (comment: string) => ops.push({ op: "comment", on: text, comment }) };
    },
  };
}

/** Every match in order; the second and later ones are labelled `needle#n` so a test sees which one was replaced. */
function searchIn(text: string) {
  return (needle: string, options: { matchCase?: boolean }) => {
    ops.push({ op: "search", needle, matchCase: options?.matchCase });
    const items = text.split(needle).slice(1).map((_, index) => matchRange(index ? `${needle}#${index}` : needle));
    return { items, load() {} };
  };
}

/** Paragraph stand-ins: replacing one records which paragraph it was. */
function paragraphsOf(texts: string[]) {
  const items = texts.map((text) => ({
    text,
    insertText: (value: string, location: string) => ops.push({ op: "paragraph", from: text, text: value, location }),
  }));
  return {
    items,
    // The mock cannot navigate into an array: check the adapter asks for items/text, then load the items.
    load(properties: string) {
      ops.push({ op: "load", properties });
      return OfficeMockObject.prototype.load.call(this, "items");
    },
  };
}

function wordMock(selectionText: string, paragraphTexts: string[], bodyText = "Whole body text.") {
  return new OfficeMockObject({
    context: {
      document: {
        changeTrackingMode: "Off",
        body: {
          text: bodyText,
          search: searchIn(bodyText),
          insertText: (text: string, location: string) => ops.push({ op: "body.insertText", text, location }),
          insertHtml: (html: string, location: string) => ops.push({ op: "body.insertHtml", html, location }),
          paragraphs: paragraphsOf(bodyText.split("\n")),
        },
        selection: {
          text: selectionText,
          paragraphs: paragraphsOf(paragraphTexts),
          insertParagraph: (text: string, location: string) => {
            ops.push({ op: "insertParagraph", text, location });
            return { insertHtml: (html: string, where: string) => ops.push({ op: "paragraph.insertHtml", html, location: where }) };
          },
          insertText: (text: string, location: string) => ops.push({ op: "insertText", text, location }),
          insertHtml: (html: string, location: string) => ops.push({ op: "insertHtml", html, location }),
          search: searchIn(selectionText),
        },
        getSelection() {
          return this.selection;
        },
      },
    },
    run: async function (callback: (context: unknown) => Promise<unknown>) {
      return callback(this.context);
    },
  });
}

function install(selectionText: string, paragraphs: string[] = [selectionText], wordApi16 = true, bodyText?: string) {
  ops = [];
  mock = wordMock(selectionText, paragraphs, bodyText);
  Object.assign(globalThis, {
    Word: mock,
    Office: { context: { requirements: { isSetSupported: (set: string, version: string) => set === "WordApi" && (wordApi16 || version < "1.6") } } },
  });
}

const MODEL = { provider: "openai-main", model: "gpt-4.1-mini", location: "us-east" };
const proofread = { id: "proofread", output: "edits" as const };
const summarize = { id: "summarize", output: "text" as const };

describe("WordHost.readInput", () => {
  beforeEach(() => install("The selected words."));

  it("reads the selection (loading before reading, or the mock would answer an error string)", async () => {
    expect(await new WordHost().readInput("selection")).toEqual({ text: "The selected words." });
  });

  it("reads the whole body for the document scope", async () => {
    expect(await new WordHost().readInput("document")).toEqual({ text: "Whole body text.", document: "Whole body text." });
  });

  it("falls back to the body when nothing is selected, and says it read the whole document", async () => {
    const host = new WordHost();
    expect(await host.readInput("selection")).toEqual({ text: "The selected words." });
    expect(host.lastRead).toBe("selection");
    install("   ");
    expect(await host.readInput("selection")).toEqual({ text: "Whole body text." });
    expect(host.lastRead).toBe("document");
  });
});

describe("WordHost.write", () => {
  it("inserts the answer as a paragraph after the selection", async () => {
    install("Source.");
    const report = await new WordHost().write({ mode: "insert", skill: summarize, text: "A summary." });
    expect(ops).toEqual([{ op: "insertParagraph", text: "A summary.", location: "After" }]);
    expect(report.summary).toContain("Inserted");
  });

  it("replaces the selection when paragraph counts differ", async () => {
    install("One. Two.", ["One. Two."]);
    await new WordHost().write({ mode: "replace", skill: summarize, text: "Better." });
    expect(ops).toEqual([{ op: "load", properties: "items/text" }, { op: "insertText", text: "Better.", location: "Replace" }]);
  });

  it("replaces the whole body when nothing was selected, as the body is what the skill read", async () => {
    install("", [""]);
    const report = await new WordHost().write({ mode: "replace", skill: summarize, text: "Rewritten body." });
    expect(ops.filter((op) => op.op !== "load")).toEqual([{ op: "body.insertText", text: "Rewritten body.", location: "Replace" }]);
    expect(report.summary).toBe("Replaced the whole document (nothing was selected).");
  });

  it("refuses to replace an answer made from a selection once nothing is selected, rather than the whole body", async () => {
    install("", [""]);
    const write = new WordHost().write({ mode: "replace", skill: summarize, text: "Rewritten paragraph.", scope: "selection" });
    await expect(write).rejects.toMatchObject({ code: "nothing_selected" });
    expect(ops.filter((op) => op.op !== "load")).toEqual([]);
  });

  it("replaces the whole body after a whole-document read, whatever is selected now", async () => {
    install("One word.", ["One word."], true, "First.\nSecond.");
    const write = { mode: "replace" as const, skill: { id: "translate", output: "text" as const }, scope: "document" as const };
    const report = await new WordHost().write({ ...write, text: "Premier.\nSecond." });
    expect(ops.filter((op) => op.op !== "load")).toEqual([
      { op: "paragraph", from: "First.", text: "Premier.", location: "Replace" },
      { op: "paragraph", from: "Second.", text: "Second.", location: "Replace" },
    ]);
    expect(report.summary).toBe("Replaced 2 paragraphs in place.");
    ops = [];
    expect((await new WordHost().write({ ...write, text: "One paragraph now." })).summary).toBe("Replaced the whole document.");
    expect(ops.filter((op) => op.op !== "load")).toEqual([{ op: "body.insertText", text: "One paragraph now.", location: "Replace" }]);
  });

  it("applies proofreading edits of a whole-document read to the body, not the selection", async () => {
    install("Selected.", ["Selected."], true, "Their is a eror.");
    const output = { edits: [{ original: "eror", replacement: "error", reason: "Spelling" }] };
    const report = await new WordHost().write({ mode: "replace", skill: proofread, text: "", output, model: MODEL, scope: "document" });
    expect(ops.filter((op) => op.op === "replace").map((op) => op.original)).toEqual(["eror"]);
    expect(report.summary).toBe("Applied 1 edit as tracked changes.");
  });

  it("writes a translation back paragraph by paragraph in place", async () => {
    install("Hello.\nGoodbye.", ["Hello.", "", "Goodbye."]);
    const report = await new WordHost().write({ mode: "replace", skill: { id: "translate", output: "text" }, text: "Bonjour.\n\nAu revoir." });
    expect(ops).toEqual([
      { op: "load", properties: "items/text" },
      { op: "paragraph", from: "Hello.", text: "Bonjour.", location: "Replace" },
      { op: "paragraph", from: "Goodbye.", text: "Au revoir.", location: "Replace" },
    ]);
    expect(report.summary).toBe("Replaced 2 paragraphs in place.");
  });

  it("applies proofreading edits as tracked changes with a comment naming the reason and the model", async () => {
    install("Their is a eror here.");
    const output = { edits: [
      { original: "Their", replacement: "There", reason: "Wrong word" },
      { original: "eror", replacement: "error", reason: "Spelling" },
      { original: "missing", replacement: "x", reason: "Not in the text" },
    ] };
    const report = await new WordHost().write({ mode: "replace", skill: proofread, text: "", output, model: MODEL });
    const replaced = ops.filter((op) => op.op === "replace");
    expect(replaced).toEqual([
      { op: "replace", original: "Their", text: "There", location: "Replace", tracking: "TrackAll" },
      { op: "replace", original: "eror", text: "error", location: "Replace", tracking: "TrackAll" },
    ]);
    expect(ops.filter((op) => op.op === "comment").map((op) => op.comment)).toEqual([
      "Wrong word (suggested by openai-main/gpt-4.1-mini)",
      "Spelling (suggested by openai-main/gpt-4.1-mini)",
    ]);
    expect(ops.filter((op) => op.op === "search").every((op) => op.matchCase === true)).toBe(true);
    expect(mock.context.document.changeTrackingMode).toBe("Off"); // the user's mode is restored
    expect(report).toEqual({ summary: "Applied 2 edits as tracked changes, 1 not found.", tracked: true });
  });

  it("applies the same correction twice to the first and then the second occurrence", async () => {
    install("Teh cat and teh dog saw teh bird.");
    const output = { edits: [
      { original: "teh", replacement: "the", reason: "Spelling" },
      { original: "teh", replacement: "the", reason: "Spelling" },
    ] };
    const report = await new WordHost().write({ mode: "replace", skill: proofread, text: "", output, model: MODEL });
    expect(ops.filter((op) => op.op === "replace").map((op) => op.original)).toEqual(["teh", "teh#1"]);
    expect(report.summary).toBe("Applied 2 edits as tracked changes.");
  });

  it("skips an edit whose original is longer than Word can search for, and applies the others", async () => {
    const long = "word ".repeat(60).trim(); // 299 characters: Word's search takes at most 255
    install(`${long} Their is.`);
    const output = { edits: [
      { original: long, replacement: "shorter", reason: "Too wordy" },
      { original: "Their", replacement: "There", reason: "Wrong word" },
    ] };
    const report = await new WordHost().write({ mode: "replace", skill: proofread, text: "", output, model: MODEL });
    expect(ops.filter((op) => op.op === "search").map((op) => op.needle)).toEqual(["Their"]);
    expect(report.summary).toBe("Applied 1 edit as tracked changes, 1 not found.");
  });

  it("applies edits directly, without comments, where WordApi 1.6 is missing", async () => {
    install("Their is.", ["Their is."], false);
    const output = [{ original: "Their", replacement: "There", reason: "Wrong word" }];
    const report = await new WordHost().write({ mode: "replace", skill: proofread, text: "", output, model: MODEL });
    // changeTrackingMode is never loaded or set: the mock still answers "not loaded" for it
    expect(ops.filter((op) => op.op === "replace")).toEqual([
      { op: "replace", original: "Their", text: "There", location: "Replace", tracking: expect.stringMatching(/not loaded/) },
    ]);
    expect(ops.some((op) => op.op === "comment")).toBe(false);
    expect(report.tracked).toBe(false);
  });

  it("inserts an answer with Markdown as formatted content in a new paragraph after the selection", async () => {
    install("Source.");
    const report = await new WordHost().write({ mode: "insert", skill: summarize, text: "# Summary\n\nRevenue **grew** 12%." });
    expect(ops).toEqual([
      { op: "insertParagraph", text: "", location: "After" },
      { op: "paragraph.insertHtml", html: "<h1>Summary</h1>\n<p>Revenue <strong>grew</strong> 12%.</p>\n", location: "Replace" },
    ]);
    expect(report.summary).toBe("Inserted after the selection.");
  });

  it("replaces the selection with formatted content when the answer has Markdown", async () => {
    install("One. Two.", ["One. Two."]);
    await new WordHost().write({ mode: "replace", skill: { id: "rewrite", output: "text" }, text: "- One\n- Two" });
    expect(ops.filter((op) => op.op !== "load")).toEqual([{ op: "insertHtml", html: "<ul>\n<li>One</li>\n<li>Two</li>\n</ul>\n", location: "Replace" }]);
  });

  it("replaces the whole body with formatted content after a whole-document read", async () => {
    install("Selected.", ["Selected."], true, "Only one paragraph.");
    await new WordHost().write({ mode: "replace", skill: summarize, text: "## Key points\n\n1. *First*", scope: "document" });
    expect(ops.filter((op) => op.op !== "load")).toEqual([
      { op: "body.insertHtml", html: "<h2>Key points</h2>\n<ol>\n<li><em>First</em></li>\n</ol>\n", location: "Replace" },
    ]);
  });

  it("keeps a translation's paragraph-by-paragraph replacement as plain text, even with Markdown marks in it", async () => {
    install("Hello.\nGoodbye.", ["Hello.", "Goodbye."]);
    await new WordHost().write({ mode: "replace", skill: { id: "translate", output: "text" }, text: "**Bonjour.**\nAu revoir." });
    expect(ops.filter((op) => op.op !== "load").map((op) => op.op)).toEqual(["paragraph", "paragraph"]);
  });

  it("leaves undo to Word", () => {
    expect(new WordHost().canUndo()).toBe(false);
  });
});
