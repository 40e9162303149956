"""Mutation run 8 (consolidate): TextSpill.hold's budget boundary and file offsets."""
from workbook_tool.consolidate import TextSpill


def test_spill_keeps_up_to_exactly_the_budget_then_writes_from_offset_zero():
    spill = TextSpill(budget=10)
    assert spill.kept == 0
    assert spill.hold(("abc", "de")) is None
    assert spill.hold(("abcde",)) is None  # exactly the budget stays in memory
    assert spill.kept == 10
    where = spill.hold(("x",))
    assert where is not None and where[0] == 0
    assert spill.load(where) == ("x",)
    second = spill.hold(("yz",))
    assert second[0] == where[1]
    assert spill.load(second) == ("yz",)
