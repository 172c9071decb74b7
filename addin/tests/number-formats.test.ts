import { describe, expect, it } from "vitest";
import { dateFormats, mayShowDate } from "../src/hosts/numberFormats";

describe("mayShowDate", () => {
  it("keeps formats with a date or time code", () => {
    for (const format of ["yyyy-mm-dd", "m/d/yyyy", "d-mmm-yy", "h:mm", "[h]:mm:ss", "mm:ss", "[$-409]mmmm d, yyyy;@", "dddd"]) {
      expect(mayShowDate(format), format).toBe(true);
    }
  });

  it("drops General, numbers, text, currency, percent and codes inside literals", () => {
    const formats = ["General", "0.00", "@", "$#,##0.00", "0%", "0.00E+00", '0.00 "days"', "[Red]0.00", '_($* #,##0.00_);_($* "-"??_)', "\\d0", "# ?/?", null, 7];
    for (const format of formats) expect(mayShowDate(format), String(format)).toBe(false);
  });
});

describe("dateFormats", () => {
  it("keeps the formats of numbers only, null between them, without trailing cells and rows", () => {
    const values = [["Day", "Amount", "Note"], [45292, 3, "x"], [45293, 4, "y"], ["", 5, "z"]];
    const formats = [["yyyy-mm-dd", "General", "@"], ["yyyy-mm-dd", "0.00", "@"], ["General", "h:mm", "@"], ["yyyy-mm-dd", "General", "@"]];
    expect(dateFormats(formats, values)).toEqual([[], ["yyyy-mm-dd"], [null, "h:mm"]]);
  });

  it("is undefined when no number shows as a date, or without formats", () => {
    expect(dateFormats([["General", "0%"]], [[45292, 0.5]])).toBeUndefined();
    expect(dateFormats([["yyyy-mm-dd"]], [["2024-01-01"]])).toBeUndefined();
    expect(dateFormats(undefined, [[1]])).toBeUndefined();
  });
});
