// A1 addresses as data: the Excel adapter computes its target blocks itself, so it needs only getRange(address).

export interface Block {
  sheet: string;
  row: number; // 0-based
  column: number; // 0-based
  rows: number;
  columns: number;
}

const CELL = /^\$?([A-Za-z]{1,3})\$?(\d+)$/;
const SHEET_ROWS = 1_048_576;
const SHEET_COLUMNS = 16_384;

/** Parse "Sheet1!B2:C4", "'My sheet'!A1" or "B2" (sheet given separately) into a block. */
export function parseAddress(address: string, defaultSheet = ""): Block {
  const bang = address.lastIndexOf("!");
  const rawSheet = bang === -1 ? defaultSheet : address.slice(0, bang);
  const sheet = rawSheet.startsWith("'") ? rawSheet.slice(1, -1).replace(/''/g, "'") : rawSheet;
  const [first, last = first] = address.slice(bang + 1).split(":");
  const start = parseCell(first, "start");
  const end = parseCell(last, "end");
  return {
    sheet,
    row: Math.min(start.row, end.row),
    column: Math.min(start.column, end.column),
    rows: Math.abs(end.row - start.row) + 1,
    columns: Math.abs(end.column - start.column) + 1,
  };
}

/** The range part of a block's address, without the sheet: "B2:C4" or "B2". */
export function formatRange(block: Block): string {
  const start = `${columnName(block.column)}${block.row + 1}`;
  if (block.rows === 1 && block.columns === 1) return start;
  return `${start}:${columnName(block.column + block.columns - 1)}${block.row + block.rows}`;
}

/** The full address with a quoted sheet name when it needs quoting. */
export function formatAddress(block: Block): string {
  const sheet = /^[A-Za-z0-9_]+$/.test(block.sheet) ? block.sheet : `'${block.sheet.replace(/'/g, "''")}'`;
  return block.sheet ? `${sheet}!${formatRange(block)}` : formatRange(block);
}

/** The first cell under a block, where an inserted answer goes without overwriting the input. */
export function cellBelow(block: Block): Block {
  return { sheet: block.sheet, row: block.row + block.rows, column: block.column, rows: 1, columns: 1 };
}

/** Whether a block runs to the sheet's last row, as a whole-column selection ("A:C") does. */
export function reachesLastRow(block: Block): boolean {
  return block.row + block.rows >= SHEET_ROWS;
}

/** Whether every cell of a block lies inside the sheet (Excel refuses a range past row 1,048,576 or column XFD). */
export function fitsInSheet(block: Block): boolean {
  return block.row + block.rows <= SHEET_ROWS && block.column + block.columns <= SHEET_COLUMNS;
}

/** A block of the given size starting at a block's top-left cell. */
export function resize(block: Block, rows: number, columns: number): Block {
  return { ...block, rows, columns };
}

/** A cell, or one end of a whole-column ("A" of "A:C") or whole-row ("2" of "2:5") selection. */
function parseCell(text: string, end: "start" | "end"): { row: number; column: number } {
  const trimmed = text.trim();
  const match = CELL.exec(trimmed);
  if (match) return { row: Number(match[2]) - 1, column: columnIndex(match[1]) };
  const column = /^\$?([A-Za-z]{1,3})$/.exec(trimmed);
  if (column) return { row: end === "start" ? 0 : SHEET_ROWS - 1, column: columnIndex(column[1]) };
  const row = /^\$?(\d+)$/.exec(trimmed);
  if (row) return { row: Number(row[1]) - 1, column: end === "start" ? 0 : SHEET_COLUMNS - 1 };
  throw new Error(`Not a cell address: ${text}`);
}

function columnIndex(name: string): number {
  return [...name.toUpperCase()].reduce((total, letter) => total * 26 + letter.charCodeAt(0) - 64, 0) - 1;
}

/** 0 -> A, 25 -> Z, 26 -> AA. */
export function columnName(index: number): string {
  let name = "";
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}
