import { describe, expect, it } from "vitest";
import type { Skill } from "../src/api/types";
import { describeProblem } from "../src/ui/problems";
import { buildInput, skillParameters, wantsWholeDocument, wantsWorkbook } from "../src/ui/skillInput";

/** A skill with the input_schema of the built-in one of that id (skills/<id>/skill.yaml), trimmed to what matters. */
function skill(id: string, input_schema: Record<string, unknown>, extra: Partial<Skill> = {}): Skill {
  return { id, name: id, description: "", hosts: ["word"], input_schema, output: "text", streaming: true, long_running: false, ...extra };
}

const sensitivity = { enum: ["general", "confidential", "highly_confidential"] };
const translate = skill("translate", {
  type: "object",
  required: ["text", "target_language"],
  properties: { text: { type: "string", minLength: 1 }, target_language: { type: "string" }, instructions: { type: "string" }, sensitivity },
});
const rewrite = skill("rewrite", {
  type: "object",
  required: ["text", "tone"],
  properties: { text: { type: "string" }, tone: { enum: ["formal", "friendly", "concise", "expand"] }, document: { type: "string" }, instructions: {} },
});
const summarize = skill("summarize", {
  type: "object",
  anyOf: [{ required: ["text"] }, { required: ["document"] }],
  properties: { text: { type: "string" }, document: { type: "string" }, length: { enum: ["short", "medium", "long"], default: "medium" } },
});
const summarizeDocument = skill(
  "summarize_document",
  { type: "object", anyOf: [{ required: ["document"] }, { required: ["drive_item"] }], properties: { document: { type: "string" }, drive_item: { type: "object" } } },
  { long_running: true, streaming: false },
);
const draft = skill("draft", { type: "object", required: ["instructions"], properties: { instructions: { type: "string" }, text: { type: "string" }, document: { type: "string" } } });
const textToTable = skill("text_to_table", { type: "object", required: ["text"], properties: { text: { type: "string" }, instructions: {} } }, { hosts: ["excel"], output: "table" });
const analyzeWorkbook = skill("analyze_workbook", { type: "object", required: ["sheets"], properties: { sheets: { type: "array" }, instructions: {} } }, { hosts: ["excel"] });

describe("skillParameters", () => {
  it("asks for what the document cannot give: a target language, a tone, a length, the sensitivity", () => {
    expect(skillParameters(translate).map((p) => [p.name, p.kind, p.required])).toEqual([
      ["target_language", "text", true],
      ["sensitivity", "choice", false],
    ]);
    expect(skillParameters(rewrite)[0]).toMatchObject({ name: "tone", label: "Tone", kind: "choice", choices: ["formal", "friendly", "concise", "expand"], required: true });
    expect(skillParameters(summarize)[0]).toMatchObject({ name: "length", hint: "Default: medium", required: false });
  });
});

describe("buildInput", () => {
  it("sends the typed parameters with the selection", () => {
    expect(buildInput(translate, { text: "Hello." }, { target_language: "French", sensitivity: "" }, " formal ")).toEqual({
      text: "Hello.",
      target_language: "French",
      instructions: "formal",
    });
  });

  it("refuses, readably, to send a skill without a required parameter", () => {
    const problem = (() => {
      try {
        buildInput(translate, { text: "Hello." }, {}, "");
      } catch (error) {
        return error;
      }
    })();
    expect(describeProblem(problem).message).toBe("Fill in: Target language.");
  });

  it("says to select something when there is no text at all (an empty document)", () => {
    expect(() => buildInput(summarize, { text: "" }, {}, "")).toThrow(/select some text/);
    expect(buildInput(draft, { text: "" }, {}, "A letter to Ann")).toEqual({ instructions: "A letter to Ann" }); // draft needs none
  });

  it("sends the whole text once for the document scope", () => {
    expect(buildInput(summarize, { text: "Body.", document: "Body." }, {}, "")).toEqual({ document: "Body." });
    expect(buildInput(rewrite, { text: "Body.", document: "Body." }, { tone: "formal" }, "")).toEqual({ text: "Body.", tone: "formal" });
  });

  it("gives a document-only skill the document and never the selection field it does not take", () => {
    expect(wantsWholeDocument(summarizeDocument) && !wantsWholeDocument(summarize)).toBe(true);
    expect(buildInput(summarizeDocument, { text: "Body.", document: "Body." }, {}, "")).toEqual({ document: "Body." });
  });

  it("gives a text skill in Excel the text of the selected cells", () => {
    const range = { address: "Sheet1!A1:B2", values: [["Name", "Age"], ["Ann", 31]] };
    expect(buildInput(textToTable, { range }, {}, "")).toEqual({ text: "Name\tAge\nAnn\t31" });
  });

  it("knows a workbook skill", () => {
    expect(wantsWorkbook(analyzeWorkbook)).toBe(true);
    expect(buildInput(analyzeWorkbook, { sheets: [{ name: "S", range: { address: "S!A1", values: [[1]] } }] }, {}, "")).toHaveProperty("sheets");
  });
});

describe("instructions longer than the skill takes", () => {
  it("are refused before any request, saying by how much", () => {
    const draft = skill("draft", { type: "object", required: ["instructions"], properties: { instructions: { type: "string", maxLength: 4000 }, text: { type: "string" } } });
    expect(buildInput(draft, { text: "x" }, {}, "a".repeat(4000)).instructions).toHaveLength(4000);
    let refused: unknown = null;
    try {
      buildInput(draft, { text: "x" }, {}, "a".repeat(4500));
    } catch (error) {
      refused = error;
    }
    expect(describeProblem(refused)).toMatchObject({
      title: "Shorten the instructions",
      message: "The instructions have 4,500 characters; this skill takes at most 4,000.",
    });
  });
});

describe("an Excel selection of empty cells", () => {
  const emptyRange = { address: "Sheet1!F1:G2", values: [["", ""], ["", ""]], formulas: [["", ""], ["", ""]] };
  const rangeProperty = { type: "object" };

  it("is refused for a skill that needs cells to work on, before any request", () => {
    const cleanData = skill("clean_data", { type: "object", required: ["range"], properties: { range: rangeProperty, instructions: { type: "string" } } });
    const textToTable = skill("text_to_table", { type: "object", anyOf: [{ required: ["text"] }, { required: ["range"] }], properties: { text: { type: "string" }, range: rangeProperty } });
    for (const refusing of [cleanData, textToTable]) {
      let refused: unknown = null;
      try {
        buildInput(refusing, { range: emptyRange }, {}, "");
      } catch (error) {
        refused = error;
      }
      expect(describeProblem(refused).message).toContain("There is nothing to work on");
    }
    expect(buildInput(cleanData, { range: { ...emptyRange, values: [["", "x"], ["", ""]] } }, {}, "").range).toBeDefined();
  });

  it("and a workbook without data are refused for analyze_workbook", () => {
    const analyzeWorkbook = skill("analyze_workbook", { type: "object", required: ["sheets"], properties: { sheets: { type: "array", minItems: 1 } } }, { long_running: true });
    expect(() => buildInput(analyzeWorkbook, { sheets: [] }, {}, "")).toThrow("There is nothing to work on");
  });

  it("is still sent to a skill that only takes it as context (write_formula: where the formula goes)", () => {
    const writeFormula = skill("write_formula", { type: "object", required: ["instructions"], properties: { instructions: { type: "string" }, range: rangeProperty } });
    expect(buildInput(writeFormula, { range: emptyRange }, {}, "Sum column A")).toEqual({ range: emptyRange, instructions: "Sum column A" });
  });
});
