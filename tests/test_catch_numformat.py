"""Number formats applied to a cell's raw <v> text, checked one format code at a time.

Each expected value is the text the cell shows, written out; dates always in ISO 8601.
"""

from __future__ import annotations

from decimal import Decimal

from workbook_tool.reader.numformat import _Clock, format_code, general, shown


def test_general_switches_to_scientific_outside_its_range():
    assert general(Decimal("0.00000000015")) == "1.5E-10"  # 10 places: scientific
    assert general(Decimal("0.000000001")) == "0.000000001"  # 9 places: still plain
    assert general(Decimal("0.0001")) == "0.0001"
    assert general(Decimal("1000000000000000000000.5")) == "1E+21"
    assert general(Decimal("100000000000000000000.5")) == "100000000000000000000"
    assert general(Decimal("-0.00000000000123")) == "-1.23E-12"
    assert shown("0.00000000015", "General") == "1.5E-10"


def test_scientific_notation():
    assert shown("12345", "0.00E+00") == "1.23E+04"
    assert shown("0.00012345", "0.00E+00") == "1.23E-04"
    assert shown("-12345", "0.00E+00") == "-1.23E+04"
    assert shown("0", "0.00E+00") == "0.00E+00"
    assert shown("1", "0.00E+00") == "1.00E+00"
    assert shown("1225", "0.00E+00") == "1.23E+03"  # half rounds up, as Excel rounds
    assert shown("99999", "0.00E+00") == "1.00E+05"  # 9.9999 rounds up to the next power
    assert shown("95", "0E+0") == "1E+2"
    assert shown("12345", "0E+0") == "1E+4"
    assert shown("12345", "0.00E-00") == "1.23E04"  # "E-": a sign only for small numbers
    assert shown("0.00012345", "0.00E-00") == "1.23E-04"
    assert shown("123456", "0.000E+000") == "1.235E+005"
    assert shown("12345", "0.00e+00") == "1.23E+04"
    assert shown("12345", "0.0#E+00") == "1.23E+04"
    assert shown("12345", "#0.00E+00") == "1.23E+04"


def test_fixed_decimals_and_optional_digits():
    assert shown("1.5", "0.0#") == "1.5"
    assert shown("1.25", "0.0#") == "1.25"
    assert shown("1.25", "0.###") == "1.25"
    assert shown("1.2", "0.###") == "1.2"
    assert shown("1", "0.##") == "1."  # Excel keeps the point when no decimal shows
    assert shown("1", "0.00") == "1.00"
    assert shown("0.5", ".00") == ".50"
    assert shown("0", "#,###") == ""  # nothing to show: an empty cell
    assert shown("-0.4", "0") == "-0"


def test_integer_digits_laid_into_placeholders():
    assert shown("5551234", "000-0000") == "555-1234"
    assert shown("5", '"x"??0') == "x  5"  # "?" is a digit-wide space
    assert shown("123", "00000") == "00123"


def test_literals_around_the_number():
    assert shown("1.5", "$ 0.00") == "$ 1.50"
    assert shown("1.5", '0.00 "kg"') == "1.50 kg"


def test_commas_after_the_digits_scale_by_thousands():
    assert shown("1234567", "#,##0,") == "1,235"
    assert shown("1234", '0.0,"K"') == "1.2K"
    assert shown("1234567", "0.0,,") == "1.2"
    assert shown("1234567", '0.0,,"M"') == "1.2M"


def test_fractions():
    assert shown("1.5", "??/??") == "3/2"  # no whole-number part: an improper fraction
    assert shown("1.25", "# ??/??") == "1 1/4"
    assert shown("1.5", "# ?/8") == "1 4/8"
    assert shown("1.3", "# ?/8") == "1 2/8"
    assert shown("1.5", "# ?/16") == "1 8/16"
    assert shown("1.5", '"Qty:" # ?/?') == "Qty: 1 1/2"
    assert shown("1.5", '# "and" ?/?') == "1 and 1/2"
    assert shown("1234.5", "# ?/?") == "1234 1/2"
    assert shown("1234.5", "#,##0 ?/?") == "1,234 1/2"


def test_a_slash_needs_digits_on_both_sides_to_make_a_fraction():
    assert shown("5", "/0") == "/5"
    assert shown("5", "0/X") == "5/X"


def test_date_formats_show_the_iso_day():
    assert shown("45717", "yyyy") == "2025-03-01"
    assert shown("45717", "dd") == "2025-03-01"
    assert shown("45717", "mmmm") == "2025-03-01"
    assert shown("2958465", "yyyy-mm-dd") == "9999-12-31"  # the last day Excel shows
    assert shown("2958466", "yyyy-mm-dd") == "2958466"  # past it: the number
    assert shown("-1", "yyyy-mm-dd") == "-1"


def test_the_first_days_of_the_1900_system():
    assert shown("0", "yyyy-mm-dd") == "1900-01-00"
    assert shown("1", "yyyy-mm-dd") == "1900-01-01"
    assert shown("59", "yyyy-mm-dd") == "1900-02-28"
    assert shown("60", "yyyy-mm-dd") == "1900-02-29"  # Lotus 1-2-3's day that never was
    assert shown("61", "yyyy-mm-dd") == "1900-03-01"
    assert shown("0.5", "yyyy-mm-dd h:mm") == "1900-01-00 12:00"
    assert shown("60.5", "yyyy-mm-dd h:mm") == "1900-02-29 12:00"


def test_date_and_time_together():
    assert shown("45717.5", "h:mm dd/mm/yyyy") == "2025-03-01 12:00"
    assert shown("45717.75", "yyyy-mm-dd h:mm") == "2025-03-01 18:00"


def test_times_round_to_the_second_then_cut():
    assert shown("0.3749953703703703703703703704", "h:mm") == "9:00"  # 8:59:59.6
    assert shown("0.374994", "h:mm") == "8:59"  # 8:59:59.48
    assert shown("0.00046875", "h:mm:ss") == "0:00:41"  # 40.5 seconds: half rounds up


def test_fractions_of_a_second():
    assert shown("0.000142824074074074", "mm:ss.00") == "00:12.34"
    assert shown("0.000142824074074074", "mm:ss.0") == "00:12.3"
    assert shown("0.0001428819444444444", "mm:ss.000") == "00:12.345"
    assert shown("0.0001428888888888889", "mm:ss.0000") == "00:12.3460"  # three at most
    assert shown("0.5", "h:mm:ss.0 AM/PM") == "12:00:00.0 PM"
    # A point not right after the seconds is text, not the decimals of a second.
    assert shown("0.500005787037037", "h:mm.0") == "12:00.0"


def test_time_units_and_literals():
    assert shown("0.3541666666666667", "hhh:mm") == "08:30"  # hours take two digits at most
    assert shown("0.5", '"at "h:mm') == "at 12:00"
    assert shown("0.25", "[hh]:mm") == "06:00"
    assert shown("1.25", "[h]:mm") == "30:00"
    assert shown("0.020833333333333332", "mmss") == "3000"  # m right before s: minutes
    assert shown("0.0006944444444444445", "m:[ss]") == "1:60"
    assert shown("0.5", "h AM/PM") == "12 PM"
    assert shown("0.25", "h a/p") == "6 a"


def test_clock_shows_nothing_for_a_day_unit():
    clock = _Clock(3600, "", twelve=False)
    assert clock.show("month", "mm") == ""
    assert clock.show("h", "hh") == "01"
    assert clock.show("lit", "x") == "x"


def test_format_code_of_a_style():
    assert format_code(14, {}) == "mm-dd-yy"
    assert format_code(14, {14: "dd/mm/yyyy"}) == "dd/mm/yyyy"  # the file's own first
    assert format_code(999, {}) == "General"
    assert format_code(164, {164: ""}) == "General"


def test_elapsed_time_and_am_pm_alone_are_times():
    assert shown("1.25", "[h]") == "30"
    assert shown("0.0625", "[mm]") == "90"
    assert shown("0.0625", "[ss]") == "5400"
    assert shown("0.75", "AM/PM") == "PM"
    assert shown("0.75", "A/P") == "P"
    assert shown("45717", "MMMM") == "2025-03-01"


def test_literal_tokens():
    assert shown("5", "[$USD] 0") == "USD 5"
    assert shown("5", "[$€-407]0") == "€5"
    assert shown("5", "[Red]0") == "5"
    assert shown("5", "0_)") == "5"  # "_)" pads with a space as wide as ")"
    assert shown("1234", '"$"* #,##0') == "$1,234"  # "* " fills the cell with spaces
    assert shown("5", "0\\x") == "5x"


def test_sections_for_negative_numbers_and_zero():
    code = "#,##0_);(#,##0);\"-\"_)"  # an accounting style: a dash for zero
    assert shown("5", code) == "5"
    assert shown("1", code) == "1"
    assert shown("-5", code) == "(5)"
    assert shown("0", code) == "-"
    assert shown("0", "0;(0);0.0") == "0.0"
    assert shown("0", "0;(0)") == "0"  # no zero section: the first one
    assert shown("0.5", "0.0;(0.0)") == "0.5"
    assert shown("5", '"$"0;("$"0)') == "$5"


def test_general_with_text_around_it():
    assert shown("5", '"Qty "General') == "Qty 5"
    assert shown("5", '"Qty "General" pcs"') == "Qty 5 pcs"
    assert shown("2.5", "General") == "2.5"
