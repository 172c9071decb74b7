import { describe, expect, it } from "vitest";
import { outputAsText } from "../src/ui/useRun";

describe("outputAsText", () => {
  it("shows a formula with its explanation", () => {
    expect(outputAsText({ formula: "=SUM(A1:A3)", explanation: "Adds them." })).toBe("`=SUM(A1:A3)`\n\nAdds them.");
  });

  it("prefers a text field of a structured output, then paragraphs, then JSON", () => {
    expect(outputAsText({ parts: 3, summary: "Short." })).toBe("Short.");
    expect(outputAsText({ paragraphs: ["Un.", "Deux."] })).toBe("Un.\n\nDeux.");
    expect(outputAsText({ rows: [[1]] })).toBe('```json\n{\n  "rows": [\n    [\n      1\n    ]\n  ]\n}\n```');
  });
});
