// Excel keeps a date as a serial number (45292 is 2024-01-01): only the cell's number format says it is a date. The
// pane sends the formats of the cells that may show a date or a time beside the values, and nothing when there is
// none; the backend decides exactly (backend/skills/excel_dates.py) and shows those cells to the model as dates.

/** Parts of a format that are never date codes: "quoted text", \x, _x and *x spacing, [Red] and [$-409] sections. */
const LITERALS = /"[^"]*"|\\.|_.|\*.|\[[^\]]*\]/g;

/** Whether a number format may show a date or a time: a d, m, y, h or s code outside its literals ("General",
 * "0.00", "@", currency and percent formats have none). */
export function mayShowDate(format: unknown): boolean {
  if (typeof format !== "string") return false;
  return /[dmyhs]/.test(format.replace(LITERALS, "").toLowerCase().replace("general", ""));
}

/** The `number_formats` of a range: row by row, the format of each number that may show a date or a time, null for
 * the cells between them, trailing cells and rows without one left out; undefined when no cell has one. */
export function dateFormats(formats: unknown, values: unknown[][]): (string | null)[][] | undefined {
  if (!Array.isArray(formats)) return undefined;
  const kept = values.map((row, r) => {
    const rowFormats: unknown = formats[r];
    const cells = row.map((value, c) =>
      typeof value === "number" && Array.isArray(rowFormats) && mayShowDate(rowFormats[c]) ? (rowFormats[c] as string) : null,
    );
    return cells.slice(0, lengthToLast(cells, (format) => format !== null));
  });
  const rows = lengthToLast(kept, (row) => row.length > 0);
  return rows > 0 ? kept.slice(0, rows) : undefined;
}

/** How many items there are up to and including the last one that passes the test (0 when none does). */
function lengthToLast<T>(items: T[], test: (item: T) => boolean): number {
  for (let n = items.length; n > 0; n--) if (test(items[n - 1])) return n;
  return 0;
}
