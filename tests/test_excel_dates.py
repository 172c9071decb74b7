"""Excel dates: number formats that show a date or a time, the 1900 and 1904 date systems, and ranges shown with
dates."""

from __future__ import annotations

import pytest

from backend.skills import ranges
from backend.skills.excel_dates import as_typed_text, format_kind, iso_to_serial, serial_to_iso
from backend.skills.inputs import InvalidInput, document_size
from backend.skills.loader import default_skills_dir, load_skill
from backend.skills.runtime import format_value


@pytest.mark.parametrize(
    ("number_format", "kind"),
    [
        ("yyyy-mm-dd", "date"),
        ("m/d/yyyy", "date"),
        ("d-mmm-yy", "date"),
        ("mmmm", "date"),
        ("mm", "date"),  # m alone is the month
        ("dd/mm/yyyy", "date"),
        ("[$-409]mmmm d, yyyy;@", "date"),
        ("[$-x-sysdate]dddd, mmmm dd, yyyy", "date"),
        ("[Red]yyyy-mm-dd", "date"),
        ("h:mm", "time"),  # m after h is minutes
        ("mm:ss", "time"),  # m before s is minutes
        ("h:mm AM/PM", "time"),
        ('hh"h"mm', "time"),
        ("yyyy-mm-dd hh:mm", "datetime"),
        ("m/d/yyyy h:mm:ss", "datetime"),
        ("General", None),
        ("0.00", None),
        ("@", None),
        ("$#,##0.00", None),
        ("[$€-407] #,##0.00", None),
        ('_($* #,##0.00_);_($* (#,##0.00);_($* "-"??_);_(@_)', None),
        ("0%", None),
        ("0.00E+00", None),
        ("# ?/?", None),
        ('0 "days"', None),  # letters inside quotes are text
        ("0\\d", None),  # an escaped letter is text
        ("[Red]0.00;[Blue]-0.00", None),
        ("[h]:mm:ss", None),  # a duration, not a time of day
        ("0;-0;;@", None),
    ],
)
def test_format_kind(number_format, kind):
    """Date codes are y, d and m (the month), time codes h, s, AM/PM and m beside h or s; literals do not count."""
    assert format_kind(number_format) == kind


@pytest.mark.parametrize(
    ("serial", "kind", "text"),
    [
        (45292, "date", "2024-01-01"),
        (1, "date", "1900-01-01"),
        (59, "date", "1900-02-28"),
        (60, "date", "1900-02-29"),  # the day that never was
        (61, "date", "1900-03-01"),  # from here on one day further from the epoch
        (2958465, "date", "9999-12-31"),
        (45292.5, "datetime", "2024-01-01T12:00"),
        (45292, "datetime", "2024-01-01T00:00"),
        (45292 + 45 / 86400, "datetime", "2024-01-01T00:00:45"),
        (45292.75, "date", "2024-01-01T18:00"),  # a time the format hides is still the cell's value
        (0.395833333, "time", "09:30"),
        (0, "time", "00:00"),
        (45292.5, "time", "2024-01-01T12:00"),
    ],
)
def test_serial_to_iso_and_back(serial, kind, text):
    """Serials and ISO text map both ways (to the second)."""
    assert serial_to_iso(serial, kind) == text
    assert iso_to_serial(text) == pytest.approx(serial, abs=0.5 / 86400)


@pytest.mark.parametrize("serial", [-1, 0, 2958466, 2958465.99999999, True, "45292", None, float("nan"), float("inf")])
def test_what_is_no_date_stays_as_it_is(serial):
    """Negative numbers, 0 under a date format (Excel's 1900-01-00), beyond 9999, and non-numbers are no dates."""
    assert serial_to_iso(serial, "date") is None


@pytest.mark.parametrize(
    ("serial", "kind", "text"),
    [
        (43830, "date", "2024-01-01"),  # 1462 days less than in the 1900 date system
        (0, "date", "1904-01-01"),  # serial 0 is a real day here
        (59, "date", "1904-02-29"),  # a real leap day, no fictitious one
        (60, "date", "1904-03-01"),
        (2957003, "date", "9999-12-31"),
        (43830.5, "datetime", "2024-01-01T12:00"),
        (0.5, "datetime", "1904-01-01T12:00"),
        (0.5, "date", "1904-01-01T12:00"),
        (0.395833333, "time", "09:30"),  # a time alone is the same in both systems
        (0, "time", "00:00"),
    ],
)
def test_serial_to_iso_and_back_in_the_1904_date_system(serial, kind, text):
    """In a 1904 workbook (old Macs) serial 0 is 1904-01-01: the same text is another serial than in the 1900 one."""
    assert serial_to_iso(serial, kind, 1904) == text
    assert iso_to_serial(text, 1904) == pytest.approx(serial, abs=0.5 / 86400)


def test_the_1904_date_system_holds_no_day_before_1904_nor_after_9999():
    """Before 1904-01-01 and past 9999-12-31 are no dates; whole days are integers, 1904-01-01 included."""
    for serial in (-1, -0.5, 2957004, True):
        assert serial_to_iso(serial, "date", 1904) is None, serial
    for text in ("1903-12-31", "1900-02-29", "1900-03-01"):
        assert iso_to_serial(text, 1904) is None, text
    assert iso_to_serial("1904-01-01", 1904) == 0 and isinstance(iso_to_serial("1904-01-01", 1904), int)


def test_iso_to_serial_reads_only_real_dates():
    """Whole days are integers (45292, not 45292.0); text that is no ISO date or time of Excel's range is None."""
    assert iso_to_serial("2024-01-01") == 45292 and isinstance(iso_to_serial("2024-01-01"), int)
    assert iso_to_serial(" 2024-01-01 12:00 ") == 45292.5
    for text in ("1899-12-31", "2023-02-29", "2024-13-01", "24:00", "12:60", "01/02/2024", "", 45292, None):
        assert iso_to_serial(text) is None, text


def test_as_typed_text_makes_iso_date_times_readable_by_excel():
    """Excel reads "2024-01-01 09:30" typed into a cell as a date, not "2024-01-01T09:30"."""
    assert as_typed_text("2024-01-01T09:30") == "2024-01-01 09:30"
    assert as_typed_text("2024-01-01T09:30:15") == "2024-01-01 09:30:15"
    assert [as_typed_text(v) for v in ("2024-01-01", "Tea at 9", 5, None)] == ["2024-01-01", "Tea at 9", 5, None]


SALES = {
    "address": "Sales!A1:B4",
    "values": [["Day", "Sales"], [45292, 10], [45293.25, 12], ["", 0]],
    "formulas": [["Day", "Sales"], [45292, 10], [45293.25, "=B2+2"], ["", 0]],
    "number_formats": [[], ["yyyy-mm-dd"], ["yyyy-mm-dd h:mm"], ["yyyy-mm-dd", "0.00"]],
}


def test_values_as_shown_shows_date_cells_as_iso_text():
    """Numbers in a date format become ISO text; text, blanks and other numbers stay; the input is not changed."""
    shown, dated = ranges.values_as_shown(SALES)
    assert dated is True
    assert shown == [["Day", "Sales"], ["2024-01-01", 10], ["2024-01-02T06:00", 12], ["", 0]]
    assert SALES["values"][1][0] == 45292
    assert ranges.values_as_shown({"values": [[45292]]}) == ([[45292]], False)
    assert ranges.values_as_shown({"values": [[45292]], "number_formats": [["0.00"]]}) == ([[45292]], False)


def test_a_1904_workbooks_range_shows_its_dates_in_its_own_date_system():
    """`date_system: 1904` moves every date cell 1462 days; without it (or with 1900) the 1900 system holds."""
    sales_1904 = {**SALES, "values": [["Day", "Sales"], [43830, 10], [43831.25, 12], ["", 0]], "date_system": 1904}
    assert ranges.values_as_shown(sales_1904)[0] == ranges.values_as_shown(SALES)[0]
    assert ranges.values_as_shown({**SALES, "date_system": 1904})[0][1] == ["2028-01-02", 10]
    assert ranges.values_as_shown({**SALES, "date_system": 1900}) == ranges.values_as_shown(SALES)
    assert ranges.as_shown(sales_1904) == {"address": SALES["address"], "values": ranges.values_as_shown(SALES)[0]}


def test_format_value_shows_dates_to_the_model():
    """The prompt shows the date, never the serial, and says how dates are written."""
    text = format_value(SALES)
    assert '["2024-01-01", 10]' in text and "45292" not in text
    assert "dates and times as ISO 8601 text" in text
    assert "B3: =B2+2" in text
    assert "ISO 8601" not in format_value({k: v for k, v in SALES.items() if k != "number_formats"})


@pytest.mark.parametrize(
    "formats",
    [
        [[], [], [], [], []],  # more rows than values
        [["yyyy-mm-dd", "General", "General"]],  # a row longer than its values
        [["yyyy-mm-dd"], "yyyy-mm-dd"],  # a row that is no array
    ],
)
def test_number_formats_outside_the_values_are_named(formats):
    """Formats that do not fit the values are a problem of that field, found at any depth, quoting nothing."""
    data = {"sheets": [{"name": "S", "range": {**SALES, "number_formats": formats}}]}
    assert ranges.range_problems(data) == [
        {
            "field": "sheets/0/range/number_formats",
            "message": "must not have more rows than values, nor a row longer than its row of values",
        }
    ]
    assert ranges.range_problems({"range": SALES}) == []


@pytest.mark.parametrize("date_system", [1905, 0, "1904", True, None, 1904.5])
def test_a_date_system_other_than_1900_or_1904_is_named(date_system):
    """The generic range check (for skills whose schema does not declare the field) names a bad `date_system`."""
    data = {"sheets": [{"name": "S", "range": {**SALES, "date_system": date_system}}]}
    assert ranges.range_problems(data) == [{"field": "sheets/0/range/date_system", "message": "must be 1900 or 1904"}]
    assert ranges.range_problems({"range": {**SALES, "date_system": 1904}}) == []


EXCEL_RANGE_SKILLS = [
    "analyze_range",
    "analyze_workbook",
    "clean_data",
    "explain_formula",
    "text_to_table",
    "write_formula",
]


@pytest.mark.parametrize("skill_id", EXCEL_RANGE_SKILLS)
def test_every_range_skill_accepts_and_checks_number_formats(skill_id):
    """Every skill that takes a range accepts `number_formats`: strings or null, bounded, within the values (422)."""
    skill = load_skill(default_skills_dir() / skill_id)
    good = good_input(skill_id)
    skill.check_input(good)
    for bad in ([[5]], [["y" * 256]], [[], [], [], [], []]):
        with pytest.raises(InvalidInput) as caught:
            skill.check_input(with_range_fields(good, number_formats=bad))
        assert "number_formats" in caught.value.details["fields"][0]["field"]
        assert "yyy" not in caught.value.message


@pytest.mark.parametrize("skill_id", EXCEL_RANGE_SKILLS)
def test_every_range_skill_accepts_only_the_two_date_systems(skill_id):
    """Every skill that takes a range declares `date_system` (1900 or 1904) in its published schema; other values
    are a 422 naming the field."""
    skill = load_skill(default_skills_dir() / skill_id)
    good = good_input(skill_id)
    for date_system in (1900, 1904):
        skill.check_input(with_range_fields(good, date_system=date_system))
    with pytest.raises(InvalidInput) as caught:
        skill.check_input(with_range_fields(good, date_system=1905))
    assert caught.value.details["fields"][0] == {
        "field": "sheets/0/range/date_system" if "sheets" in good else "range/date_system",
        "message": "must be one of 1900, 1904",
    }


def good_input(skill_id: str) -> dict:
    """An input the skill accepts: SALES as its range (analyze_workbook: its one sheet), and what else it needs."""
    if skill_id == "analyze_workbook":
        return {"sheets": [{"name": "Sales", "range": SALES}]}
    return {"range": SALES, "instructions": "total per month", "formula": "=1"}


def with_range_fields(data: dict, **fields) -> dict:
    """The input with fields of its range replaced."""
    if "sheets" in data:
        return {"sheets": [{"name": "Sales", "range": {**SALES, **fields}}]}
    return {**data, "range": {**SALES, **fields}}


def test_size_counts_dates_as_the_model_reads_them_and_not_the_formats():
    """The 413 limit counts what the model reads: ISO text for dates, the formats not at all."""
    spec = load_skill(default_skills_dir() / "explain_formula").spec
    plain = {"range": {"address": "A1:A1", "values": [[45292]]}}
    dated = {"range": {**plain["range"], "number_formats": [["yyyy-mm-dd"]]}}
    assert document_size(spec, dated) == document_size(spec, plain) + len('"2024-01-01"') - len("45292")
    assert document_size(spec, {"range": {**dated["range"], "date_system": 1904}}) == document_size(spec, dated)
