import { OfficeMockObject } from "office-addin-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { formatAddress, parseAddress, cellBelow, columnName } from "../src/hosts/address";
import { ExcelHost } from "../src/hosts/excel";

let mock: any; // eslint-disable-line @typescript-eslint/no-explicit-any
let requested: string[];

/** A workbook whose Sheet1 holds A1:A3 (selected) and the cells the adapter may target, all real mock objects. */
function install() {
  requested = [];
  const cell = (address: string, value: unknown = "", formula: unknown = value) => ({ address, values: [[value]], formulas: [[formula]] });
  mock = new OfficeMockObject({
    context: {
      workbook: {
        selected: { address: "Sheet1!A1:A3", values: [[1], [2], [3]], formulas: [[1], [2], ["=A1+A2-A1"]] },
        getSelectedRange() {
          return this.selected;
        },
        sheet: {
          used: { address: "Sheet1!A1:B3", values: [[1, "x"], [2, "y"], [3, "z"]], formulas: [[1, "x"], [2, "y"], [3, "z"]] },
          ranges: {
            A4: cell("Sheet1!A4"),
            C1: cell("Sheet1!C1", "old", "old"),
            "B2:C3": { address: "Sheet1!B2:C3", values: [["a", "b"], ["c", "d"]], formulas: [["a", "b"], ["c", "=1+1"]] },
          },
          getRange(address: string) {
            requested.push(address);
            const range = (this.ranges as Record<string, unknown>)[address];
            if (!range) throw new Error(`unexpected range ${address}`);
            return range;
          },
          getUsedRange() {
            return this.used;
          },
        },
        worksheets: {
          getItem(name: string) {
            if (name !== "Sheet1") throw new Error(`no sheet ${name}`);
            return mock.context.workbook.sheet;
          },
          getActiveWorksheet() {
            return mock.context.workbook.sheet;
          },
        },
      },
    },
    run: async function (callback: (context: unknown) => Promise<unknown>) {
      return callback(this.context);
    },
  });
  Object.assign(globalThis, { Excel: mock });
}

const writeFormula = { id: "write_formula", output: "json" as const };

describe("ExcelHost.readInput", () => {
  beforeEach(install);

  it("reads the selected range's address, values and formulas", async () => {
    expect(await new ExcelHost().readInput("selection")).toEqual({
      range: { address: "Sheet1!A1:A3", values: [[1], [2], [3]], formulas: [[1], [2], ["=A1+A2-A1"]] },
    });
  });

  it("reads the used range of the active sheet for the document scope", async () => {
    const input = await new ExcelHost().readInput("document");
    expect(input.range?.address).toBe("Sheet1!A1:B3");
  });
});

describe("ExcelHost writes", () => {
  beforeEach(install);

  it("previews a formula under the selection without writing", async () => {
    const host = new ExcelHost();
    const preview = await host.preview({ mode: "insert", skill: writeFormula, text: "", output: { formula: "SUM(A1:A3)" } });
    expect(preview).toEqual({ summary: "Write the formula =SUM(A1:A3) to Sheet1!A4.", target: "Sheet1!A4", before: [[""]], after: [["=SUM(A1:A3)"]] });
    expect(mock.context.workbook.sheet.ranges.A4.formulas).toEqual([[""]]);
  });

  it("writes the formula to the target cell and undoes it from the snapshot", async () => {
    const host = new ExcelHost();
    await host.write({ mode: "insert", skill: writeFormula, text: "=SUM(A1:A3)" });
    const a4 = mock.context.workbook.sheet.ranges.A4;
    expect(a4.formulas).toEqual([["=SUM(A1:A3)"]]);
    expect(host.canUndo()).toBe(true);
    await host.undo();
    expect(a4.formulas).toEqual([[""]]);
    expect(host.canUndo()).toBe(false);
  });

  it("honours an explicit target and restores the overwritten value on undo", async () => {
    const host = new ExcelHost();
    await host.write({ mode: "replace", skill: writeFormula, text: "", output: { formula: "=AVERAGE(A1:A3)" }, target: "Sheet1!C1" });
    const c1 = mock.context.workbook.sheet.ranges.C1;
    expect(c1.formulas).toEqual([["=AVERAGE(A1:A3)"]]);
    await host.undo();
    expect(c1.formulas).toEqual([["old"]]);
  });

  it("writes a 2D table sized to the data and undo brings back formulas as well as constants", async () => {
    const host = new ExcelHost();
    const table = { values: [["n", "m"], [1, 2]] };
    await host.write({ mode: "replace", skill: { id: "text_to_table", output: "table" }, text: "", output: table, target: "B2" });
    const block = mock.context.workbook.sheet.ranges["B2:C3"];
    expect(requested).toContain("B2:C3");
    expect(block.values).toEqual([["n", "m"], [1, 2]]);
    await host.undo();
    expect(block.formulas).toEqual([["a", "b"], ["c", "=1+1"]]);
  });
});

describe("A1 addresses", () => {
  it("round-trips quoted sheet names and ranges", () => {
    const block = parseAddress("'Q1 ''figures'''!$B$2:D10");
    expect(block).toEqual({ sheet: "Q1 'figures'", row: 1, column: 1, rows: 9, columns: 3 });
    expect(formatAddress(block)).toBe("'Q1 ''figures'''!B2:D10");
  });

  it("names columns past Z and finds the cell below a block", () => {
    expect([columnName(0), columnName(25), columnName(26), columnName(701), columnName(702)]).toEqual(["A", "Z", "AA", "ZZ", "AAA"]);
    expect(formatAddress(cellBelow(parseAddress("Sheet1!AA1:AB3")))).toBe("Sheet1!AA4");
  });
});
