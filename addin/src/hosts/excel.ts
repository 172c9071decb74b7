// Excel: read the selected range (address, values, formulas, the number formats of date cells, the workbook's date
// system); write a 2D array or a formula to a target range after a preview; undo by restoring the formulas (which hold
// the constants too) snapshotted before the write.
import { ApiProblem } from "../api/errors";
import type { DateSystem, RangeInput, SkillInput } from "../api/types";
import { cellBelow, fitsInSheet, formatAddress, formatRange, parseAddress, reachesLastRow, resize, type Block } from "./address";
import { parseCellWrite, type CellWrite } from "./edits";
import { dateFormats } from "./numberFormats";
import type { HostAdapter, ReadScope, WritePreview, WriteReport, WriteRequest } from "./types";

/** The most cells read from a range: values and formulas of more would be megabytes of JSON and a slow Excel. */
export const MAX_CELLS = 100_000;

/** Refuse to load more than MAX_CELLS cells, saying what to do instead. */
function checkSize(cells: number, what: string, advice: string): void {
  if (cells <= MAX_CELLS) return;
  const message = `${what} has ${cells.toLocaleString("en")} cells; the pane sends at most ${MAX_CELLS.toLocaleString("en")}. ${advice}`;
  throw new ApiProblem(413, "range_too_large", message);
}

/** What a skill receives of a range: address, values, formulas, the number formats of its date and time cells
 * (Excel holds a date as a serial number; without its format 45292 is not 2024-01-01), and the workbook's date
 * system when it is 1904 (there 45292 is 2028-01-02). */
function rangeInput(range: Excel.Range, dateSystem: DateSystem): RangeInput {
  const input: RangeInput = { address: range.address, values: range.values, formulas: range.formulas };
  const formats = dateFormats(range.numberFormat, range.values);
  if (formats) input.number_formats = formats;
  if (dateSystem === 1904) input.date_system = 1904;
  return input;
}

/** Queue loading the workbook's date system with the next sync; the function returned reads it after that sync. Only
 * ExcelApi 1.16 knows it: an older host assumes Excel's default, 1900 (and loading the property there would fail). */
function loadDateSystem(workbook: Excel.Workbook): () => DateSystem {
  if (!Office.context.requirements.isSetSupported("ExcelApi", "1.16")) return () => 1900;
  workbook.load("use1904DateSystem");
  return () => (workbook.use1904DateSystem ? 1904 : 1900);
}

/** What rangeInput reads of a range, once its size is known to be within the limit. */
const RANGE_CONTENT = "values, formulas, numberFormat";

interface Snapshot {
  block: Block;
  formulas: unknown[][];
}

export class ExcelHost implements HostAdapter {
  readonly host = "excel" as const;
  private snapshot: Snapshot | null = null;

  /** The cells with data in the selection (a whole column is a million cells, nearly all empty), or the used range
   * of the active sheet for the whole-document scope; its size is checked before its values are loaded. */
  async readInput(scope: ReadScope): Promise<SkillInput> {
    return Excel.run(async (context) => {
      const workbook = context.workbook;
      const used = workbook.worksheets.getActiveWorksheet().getUsedRangeOrNullObject(true); // cells with values, not formats
      const selected = workbook.getSelectedRange();
      let range = scope === "document" ? used : selected.getIntersectionOrNullObject(used);
      range.load("address, rowCount, columnCount");
      await context.sync();
      if (range.isNullObject === true) {
        // An empty sheet, or a selection beside the data (a write_formula target): read the selection as it is.
        range = selected;
        range.load("address, rowCount, columnCount");
        await context.sync();
      }
      checkSize(range.rowCount * range.columnCount, "The range", "Select fewer cells.");
      range.load(RANGE_CONTENT);
      const dateSystem = loadDateSystem(workbook);
      await context.sync();
      return { range: rangeInput(range, dateSystem()) };
    });
  }

  /** Every sheet with data, its used range's values, formulas and date formats (and the workbook's date system), within
   * the same cell limit as one range. */
  async readWorkbook(): Promise<SkillInput> {
    return Excel.run(async (context) => {
      const worksheets = context.workbook.worksheets;
      worksheets.load("items/name");
      await context.sync();
      const used = worksheets.items.map((sheet) => ({ name: sheet.name, range: sheet.getUsedRangeOrNullObject(true) }));
      used.forEach(({ range }) => range.load("address, rowCount, columnCount"));
      await context.sync();
      const withData = used.filter(({ range }) => range.isNullObject !== true);
      checkSize(
        withData.reduce((total, { range }) => total + range.rowCount * range.columnCount, 0),
        "The workbook",
        "Run it on a workbook with less data.",
      );
      withData.forEach(({ range }) => range.load(RANGE_CONTENT));
      const dateSystem = loadDateSystem(context.workbook);
      await context.sync();
      return { sheets: withData.map(({ name, range }) => ({ name, range: rangeInput(range, dateSystem()) })) };
    });
  }

  /** The target block and its cells before and after, so nothing is overwritten unseen. */
  async preview(request: WriteRequest): Promise<WritePreview> {
    const write = parseCellWrite(request.output, request.text);
    const block = await this.targetBlock(request, write);
    const address = formatAddress(block);
    const before = await Excel.run(async (context) => {
      const range = this.rangeOf(context, block);
      range.load("formulas");
      await context.sync();
      return range.formulas;
    });
    const after = write.kind === "formula" ? [[write.formula]] : write.values;
    const what = write.kind === "formula" ? `the formula ${write.formula}` : `${block.rows}x${block.columns} values`;
    return { summary: `Write ${what} to ${address}.`, target: address, before, after };
  }

  /** Snapshot the target, then write the formula or the values. */
  async write(request: WriteRequest): Promise<WriteReport> {
    const write = parseCellWrite(request.output, request.text);
    const block = await this.targetBlock(request, write);
    await Excel.run(async (context) => {
      const range = this.rangeOf(context, block);
      range.load("formulas");
      await context.sync();
      this.snapshot = { block, formulas: range.formulas };
      if (write.kind === "formula") range.formulas = [[write.formula]];
      else range.values = write.values as never;
      await context.sync();
    });
    return { summary: `Wrote to ${formatAddress(block)}.` };
  }

  /** True after a write until it is undone. */
  canUndo(): boolean {
    return this.snapshot !== null;
  }

  /** Put back what the last write overwrote. */
  async undo(): Promise<void> {
    const snapshot = this.snapshot;
    if (!snapshot) return;
    await Excel.run(async (context) => {
      this.rangeOf(context, snapshot.block).formulas = snapshot.formulas as never;
      await context.sync();
    });
    this.snapshot = null;
  }

  /** The explicit target (the user's or the answer's), else under the selection (insert), else (replace) the range
   * the answer was made from, or the selection itself. */
  private async targetBlock(request: WriteRequest, write: CellWrite): Promise<Block> {
    const explicit = request.target?.trim() || write.target || (request.mode === "replace" ? request.source : undefined);
    const below = !explicit && request.mode === "insert";
    const selected = await Excel.run(async (context) => {
      const range = context.workbook.getSelectedRange();
      range.load("address");
      await context.sync();
      const block = parseAddress(range.address);
      return below && reachesLastRow(block) ? usedPartOf(context, range, block) : block;
    });
    const start = explicit ? parseAddress(explicit, selected.sheet) : below ? cellBelow(selected) : selected;
    const block = write.kind === "formula" ? resize(start, 1, 1) : resize(start, write.values.length, write.values[0]?.length ?? 1);
    if (!fitsInSheet(block)) throw outsideSheet(block, below);
    return block;
  }

  private rangeOf(context: Excel.RequestContext, block: Block): Excel.Range {
    const sheets = context.workbook.worksheets;
    const sheet = block.sheet ? sheets.getItem(block.sheet) : sheets.getActiveWorksheet();
    return sheet.getRange(formatRange(block));
  }
}

/** The rows of a selection that runs to the sheet's last row (whole columns) which hold data: an answer inserted
 * "below" it goes under that data, as a user expects, not past the end of the sheet. Empty columns: their top. */
async function usedPartOf(context: Excel.RequestContext, range: Excel.Range, selected: Block): Promise<Block> {
  const used = range.getUsedRangeOrNullObject(true); // cells with values, not formats, as the pane reads them
  used.load("address");
  await context.sync();
  if (used.isNullObject === true) return { ...selected, rows: 0 };
  const data = parseAddress(used.address, selected.sheet);
  return { ...selected, rows: data.row + data.rows - selected.row };
}

/** Why the answer cannot be written there, and what to do instead (Excel's own error says neither). */
function outsideSheet(block: Block, below: boolean): ApiProblem {
  const where = below ? "There is no room below the selection" : "The target does not fit in the sheet";
  const size = `${block.rows} ${block.rows === 1 ? "row" : "rows"} by ${block.columns} ${block.columns === 1 ? "column" : "columns"}`;
  const message = `${where} for the answer (${size}). Select a cell with room below and to the right, or enter a target cell.`;
  return new ApiProblem(422, "target_outside_sheet", message);
}

