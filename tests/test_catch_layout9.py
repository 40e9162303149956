"""layout.DomainColumns with and without the prefill columns (mutation run 9)."""

from __future__ import annotations

import pytest

from workbook_tool.layout import DomainColumns


def test_prefill_columns_sit_right_of_priority_on_a_prefilled_sheet():
    cols = DomainColumns(levels=4, prefill=True)
    # id A, title B, descriptors C-F, rating G, evidence H, next steps I, priority J.
    assert [cols.of(k) for k in ("previous_rating", "previous_next_steps", "followup",
                                  "review")] == [10, 11, 12, 13]
    assert cols.last == 13


def test_a_plain_sheet_names_the_prefill_kind_it_does_not_have():
    with pytest.raises(KeyError) as raised:
        DomainColumns(levels=4).of("followup")
    assert raised.value.args == ("followup",)


def test_a_negative_column_is_refused_with_its_number():
    from workbook_tool.layout import col_letter

    assert [col_letter(0), col_letter(25), col_letter(26), col_letter(701),
            col_letter(702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    with pytest.raises(ValueError) as raised:
        col_letter(-1)
    assert str(raised.value) == "no column -1"
