import { describe, expect, it } from "vitest";
import { parseCellWrite, parseEdits, splitParagraphs } from "../src/hosts/edits";

describe("parseEdits", () => {
  it("accepts {edits} or a bare array and drops malformed items", () => {
    const edits = [{ original: "a", replacement: "b", reason: "r" }, { original: "", replacement: "x" }, { replacement: "y" }, "junk"];
    expect(parseEdits({ edits })).toEqual([{ original: "a", replacement: "b", reason: "r" }]);
    expect(parseEdits(edits)).toEqual([{ original: "a", replacement: "b", reason: "r" }]);
    expect(parseEdits("not edits")).toEqual([]);
  });
});

describe("parseCellWrite", () => {
  it("reads a formula from structured output, adding the = sign", () => {
    expect(parseCellWrite({ formula: "SUM(A1:A3)", target: "B1" }, "")).toEqual({ kind: "formula", formula: "=SUM(A1:A3)", target: "B1" });
  });

  it("reads a formula from streamed text, fenced or not", () => {
    expect(parseCellWrite(undefined, "```excel\n=SUM(A1:A3)\n```")).toEqual({ kind: "formula", formula: "=SUM(A1:A3)" });
    expect(parseCellWrite("=A1*2", "")).toEqual({ kind: "formula", formula: "=A1*2" });
  });

  it("pads a ragged table into a rectangle", () => {
    expect(parseCellWrite({ rows: [["a", "b"], ["c"]] }, "")).toEqual({ kind: "values", values: [["a", "b"], ["c", ""]] });
  });

  it("writes other text into one cell", () => {
    expect(parseCellWrite(undefined, "Sales rose 4%.")).toEqual({ kind: "values", values: [["Sales rose 4%."]] });
  });

  it("keeps text that Excel would run as a formula as text, never as a formula", () => {
    expect(parseCellWrite(undefined, "- Sales rose.\n- Costs fell.")).toEqual({ kind: "values", values: [["'- Sales rose.\n- Costs fell."]] });
    expect(parseCellWrite({ table: [["@SUM(A1)", "+1", "-2.5", "=1+1", 3, "1e3"]] }, "")).toEqual({
      kind: "values",
      values: [["'@SUM(A1)", "+1", "-2.5", "'=1+1", 3, "1e3"]],
    });
  });
});

describe("splitParagraphs", () => {
  it("ignores blank lines and any line ending", () => {
    expect(splitParagraphs("One\r\n\r\nTwo\rThree\n")).toEqual(["One", "Two", "Three"]);
  });
});
