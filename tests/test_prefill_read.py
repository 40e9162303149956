"""Reading a workbook prefilled with last cycle's answers: previous level, Review, Follow-up,
the carried-forward warning, and prefill cells that cannot be read.

The prefilled returns here are made by hand with openpyxl from a plain return (the four
columns right of Priority, their headers and their defined names, as the layout puts them),
so these tests do not depend on the writer.
"""

from __future__ import annotations

from openpyxl.workbook.defined_name import DefinedName

from returns_kit import (
    CYCLE,
    answers_for,
    codes,
    consolidate_cli,
    csv_rows,
    make_return,
    named_cell,
    prefilled_return,
    read,
    small_rubric,
    with_openpyxl,
)

# Small rubric (3 levels): Rating F, Evidence G, Next steps H, Priority I; then J Last cycle,
# K Last cycle's next steps, L Follow-up, M Review. make_return rates 1.1 Beginning,
# 1.2 Growing, 1.3 Strong Practice, 2.1 Beginning, 2.2 Growing.
# indicator -> (last cycle's label, last cycle's next steps, follow-up, review)
PREFILL = {
    "1.1": ("Beginning", "Write the vision", "Done", "Carried forward"),  # carried
    "1.2": ("Beginning", "Plan resources", "in progress", "Carried forward"),  # changed
    "1.3": ("Strong Practice", "", "", " reviewed "),  # same level, reviewed
    "2.1": ("Beginning", "Meet partners", "Dropped", "Carried forward"),  # carried
    "2.2": ("Growing", "", "Not started", "Carried Forward"),  # carried (case)
}


def prefilled(prefill=PREFILL, names: dict[str, str] | None = None) -> bytes:
    """A plain return with the four prefill columns filled and named; `names` repoints
    names (name -> reference) afterwards."""
    return prefilled_return(prefill, names)


def fields(result) -> dict[str, tuple]:
    return {a.indicator_id: (a.level, a.previous_level, a.review, a.followup)
            for a in result.answers}


def test_previous_level_review_and_followup_are_read_as_the_lists_spell_them():
    result = read(prefilled(), small_rubric())
    assert fields(result) == {
        "1.1": (1, 1, "Carried forward", "Done"),
        "1.2": (2, 1, "Carried forward", "In progress"),
        "1.3": (3, 3, "Reviewed", ""),
        "2.1": (1, 1, "Carried forward", "Dropped"),
        "2.2": (2, 2, "Carried forward", "Not started"),
    }
    assert [(a.evidence, a.next_steps, a.priority) for a in result.answers][:1] == [
        ("Evidence for 1.1", "Next for 1.1", "High")]


def test_one_carried_forward_warning_names_the_ratings_not_reviewed():
    result = read(prefilled(), small_rubric())
    assert [(p.code, p.severity, p.message) for p in result.problems] == [(
        "carried-forward", "warning",
        '3 of 5 ratings are still last cycle\'s with Review still "Carried forward": 1.1, '
        '2.1, 2.2; they count as this cycle\'s ratings (set Review to "Reviewed" once the '
        "team has looked again)")]
    assert result.rated == 5


def test_one_rating_carried_forward_is_named_alone():
    only = {ind: (label, "", "", "Reviewed") for ind, (label, *_rest) in PREFILL.items()}
    only["1.3"] = ("Strong Practice", "", "", "Carried forward")
    result = read(prefilled(only), small_rubric())
    assert [p.message for p in result.problems] == [
        '1 of 5 ratings is still last cycle\'s with Review still "Carried forward": 1.3; they '
        'count as this cycle\'s ratings (set Review to "Reviewed" once the team has looked '
        'again)']


def test_an_unrated_indicator_is_never_carried_forward():
    data = prefilled()
    sheet, ref = named_cell(data, "rating_1_1")  # emptied below
    data = with_openpyxl(data, lambda book: book[sheet].__setitem__(ref, None))
    result = read(data, small_rubric())
    assert fields(result)["1.1"] == (None, 1, "Carried forward", "Done")
    assert codes(result) == ["unrated", "carried-forward"]
    assert "2 of 5 ratings are still" in result.problems[1].message


def test_a_review_typed_as_something_else_is_kept_as_typed():
    odd = dict(PREFILL, **{"1.1": ("Beginning", "", "Maybe", "Looked at it")})
    result = read(prefilled(odd), small_rubric())
    assert fields(result)["1.1"] == (1, 1, "Looked at it", "Maybe")
    assert "1.1" not in result.problems[0].message  # not "Carried forward": not counted


def test_prefill_cells_that_cannot_be_read_are_left_empty_with_one_warning():
    names = {
        "review_1_1": "'D1 Leadership'!$M$5",  # 1.2's row
        "followup_1_2": "'D1 Leadership'!$F$5",  # 1.2's rating cell: an answer's
        "previous_rating_2_1": "'D1 Leadership'!$J$4",  # another domain's sheet
    }
    result = read(prefilled(names=names), small_rubric())
    assert fields(result) == {
        "1.1": (1, 1, "", "Done"),
        "1.2": (2, 1, "Carried forward", ""),
        "1.3": (3, 3, "Reviewed", ""),
        "2.1": (1, None, "Carried forward", "Dropped"),
        "2.2": (2, 2, "Carried forward", "Not started"),
    }
    assert [(p.code, p.message) for p in result.problems] == [
        ("prefill-cell-missing",
         "3 cells of last cycle's answers, follow-up or review could not be read and were "
         "left empty (review_1_1, followup_1_2, previous_rating_2_1): the defined names are "
         "gone or do not point at their places"),
        ("carried-forward",
         '1 of 5 ratings is still last cycle\'s with Review still "Carried forward": 2.2; '
         'they count as this cycle\'s ratings (set Review to "Reviewed" once the team has '
         "looked again)"),
    ]
    assert result.ok


def test_a_prefill_column_under_another_header_is_not_read():
    data = prefilled()
    data = with_openpyxl(data, lambda book: book["D2 Partnerships"].__setitem__("M2", "Notes"))
    result = read(data, small_rubric())
    assert [fields(result)[i][2] for i in ("2.1", "2.2")] == ["", ""]
    assert result.problems[0].message == (
        "2 cells of last cycle's answers, follow-up or review could not be read and were "
        "left empty (review_2_1, review_2_2): the defined names are gone or do not point at "
        "their places")


def test_a_plain_workbook_has_no_prefill_fields():
    result = read(make_return(answers=answers_for(small_rubric())), small_rubric())
    assert {f[1:] for f in fields(result).values()} == {(None, "", "")}
    assert codes(result) == []


def test_ratings_csv_carries_the_prefill_columns(tmp_path):
    result, out = consolidate_cli(tmp_path, {"s1.xlsx": prefilled()},
                                  "school_id,school_name\nS1,Alpha School\n", "--cycle", CYCLE)
    assert result.exit_code == 0, result.output
    rows = csv_rows(out / "ratings.csv")
    assert [(r["indicator_id"], r["level"], r["previous_level"], r["review"], r["followup"])
            for r in rows] == [
        ("1.1", "1", "1", "Carried forward", "Done"),
        ("1.2", "2", "1", "Carried forward", "In progress"),
        ("1.3", "3", "3", "Reviewed", ""),
        ("2.1", "1", "1", "Carried forward", "Dropped"),
        ("2.2", "2", "2", "Carried forward", "Not started"),
    ]
    returns = csv_rows(out / "returns.csv")
    assert [(r["status"], r["warnings"]) for r in returns] == [("accepted_with_warnings", "1")]


def test_a_prefill_name_moved_to_a_copy_of_its_sheet_is_not_read():
    data = prefilled()
    data = with_openpyxl(data, lambda book: setattr(
        book.copy_worksheet(book["D2 Partnerships"]), "title", "D2 copy"))
    data = with_openpyxl(data, lambda book: book.defined_names.__setitem__(
        "previous_rating_2_1", DefinedName("previous_rating_2_1",
                                           attr_text="'D2 copy'!$J$4")))
    result = read(data, small_rubric())
    assert fields(result)["2.1"] == (1, None, "Carried forward", "Dropped")
    assert codes(result) == ["prefill-cell-missing", "carried-forward"]
    assert "(previous_rating_2_1)" in result.problems[0].message
