"""The rubric loader: the packaged framework, other rubrics, and every kind of broken file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import DATA, ROOT
from workbook_tool.cli import main
from workbook_tool.rubric import RubricError, fingerprint_of, load_rubric


def test_packaged_rubric_shape(rubric):
    assert rubric.id == "connected-district-framework"
    assert [lv.label for lv in rubric.levels] == ["Emerging", "Developing", "Advancing",
                                                  "Transforming"]
    assert [d.id for d in rubric.domains] == ["1", "2", "3", "4", "5"]
    counts = [len(d.indicators) for d in rubric.domains]
    assert counts == [8, 4, 6, 6, 4]
    ids = [i.id for i in rubric.indicators]
    assert ids[:8] == [f"1.{n}" for n in range(1, 9)] and ids[-1] == "5.4"
    assert all(len(i.descriptors) == 4 for i in rubric.indicators)
    sections = [s.title for s in rubric.domain("1").sections]
    assert sections == ["Leadership", "Pathway Formation and Quality", "Accountability"]


def test_packaged_copy_is_the_repository_file():
    packaged = ROOT / "src" / "workbook_tool" / "data" / "district_framework.yaml"
    assert packaged.read_bytes() == (ROOT / "rubric" / "district_framework.yaml").read_bytes()


def test_lists_and_emphasis_are_structure(rubric):
    d13 = rubric.indicators[2].descriptors[1]
    assert d13.blocks[0].kind == "p" and d13.blocks[1].kind == "ul"
    assert "<" not in d13.text and d13.text.count("• ") == len(d13.blocks[1].items)
    assert rubric.indicators[0].descriptors[1].emphasis


def test_fingerprint_is_stable_and_content_based(rubric, tmp_path):
    data = yaml.safe_load((ROOT / "rubric" / "district_framework.yaml").read_text("utf-8"))
    reformatted = tmp_path / "r.yaml"
    reformatted.write_text(yaml.safe_dump(data, sort_keys=True, width=60), encoding="utf-8")
    assert load_rubric(reformatted).fingerprint == rubric.fingerprint
    data["domains"][0]["sections"][0]["indicators"][0]["title"] += " More"
    reformatted.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_rubric(reformatted).fingerprint != rubric.fingerprint
    assert fingerprint_of(rubric) == rubric.fingerprint and len(rubric.fingerprint) == 64


def test_small_rubric_loads_and_shows(small_rubric):
    assert len(small_rubric.levels) == 3
    assert [i.id for i in small_rubric.indicators] == ["1.1", "1.2", "1.3", "2.1", "2.2"]
    result = CliRunner().invoke(main, ["rubric", "show", "--rubric",
                                       str(DATA / "small_rubric.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["levels"][2] == {"level": 3, "label": "Strong Practice",
                                  "definition": "Established and shared."}
    ind = shown["domains"][1]["sections"][0]["indicators"][1]
    expected = "Families co-design:\n• events with staff,\n• the pathway offer."
    assert ind["descriptors"]["3"] == expected


def test_show_json_matches_spec_shape(rubric):
    result = CliRunner().invoke(main, ["rubric", "show", "--json"])
    assert result.exit_code == 0
    shown = json.loads(result.output)
    assert set(shown) >= {"id", "version", "title", "fingerprint", "levels", "domains"}
    assert shown["fingerprint"] == rubric.fingerprint
    assert shown["levels"][0]["level"] == 1 and shown["levels"][0]["label"] == "Emerging"
    domain = shown["domains"][4]
    assert domain["id"] == "5" and set(domain) >= {"id", "title", "sections"}
    indicator = domain["sections"][-1]["indicators"][-1]
    assert indicator["id"] == "5.4" and indicator["title"] == "Leveraging Fiscal Resources"
    assert set(indicator["descriptors"]) == {"1", "2", "3", "4"}
    assert "<p>" not in indicator["descriptors"]["1"]


def test_rubric_check_ok():
    result = CliRunner().invoke(main, ["rubric", "check"])
    assert result.exit_code == 0
    assert "28 indicators" in result.output


def _broken(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((DATA / "small_rubric.yaml").read_text("utf-8"))
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _ind(data, d=0, i=0):
    return data["domains"][d]["sections"][0]["indicators"][i]


BROKEN = {
    "missing field": (lambda d: _ind(d).pop("title"),
                      "domains[0].sections[0].indicators[0]: missing field 'title'"),
    "duplicate id": (lambda d: _ind(d, 0, 1).update(id="1.1"),
                     "domains[0].sections[0].indicators[1].id: duplicate indicator id '1.1'"),
    "wrong descriptor count": (lambda d: _ind(d)["descriptors"].pop(3),
                               "domains[0].sections[0].indicators[0].descriptors: "
                               "2 given, 3 levels defined"),
    "unknown level": (lambda d: _ind(d)["descriptors"].update({7: "x"}),
                      "unknown level 7"),
    "empty text": (lambda d: _ind(d).update(title="  "),
                   "domains[0].sections[0].indicators[0].title: is empty"),
    "empty descriptor": (lambda d: _ind(d)["descriptors"].update({1: ""}),
                         "domains[0].sections[0].indicators[0].descriptors.1: is empty"),
    "duplicate domain": (lambda d: d["domains"][1].update(id="1"),
                         "domains[1].id: duplicate domain id '1'"),
    "too few levels": (lambda d: d["levels"].pop(),
                       "levels: 2 given, a rubric has 3 to 5"),
    "unknown key": (lambda d: d.update(colour="blue"), "unknown field 'colour'"),
    "emphasis not in text": (
        lambda d: _ind(d, 1, 1)["descriptors"][3].update(emphasis=["nowhere"]),
        "'nowhere' does not occur in the descriptor",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_rubrics_report_place(tmp_path, case):
    mutate, expected = BROKEN[case]
    path = _broken(tmp_path, mutate)
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    assert any(expected in p for p in info.value.problems), info.value.problems
    result = CliRunner().invoke(main, ["rubric", "check", str(path)])
    assert result.exit_code == 1
    assert expected in result.output
    assert "Traceback" not in result.output


def test_every_problem_reported_at_once(tmp_path):
    def many(d):
        _ind(d).pop("title")
        _ind(d, 0, 1)["descriptors"].pop(2)
        d["levels"][1]["label"] = "Beginning"

    with pytest.raises(RubricError) as info:
        load_rubric(_broken(tmp_path, many))
    assert len(info.value.problems) >= 3


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nlevels: [1, 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "check", str(path)])
    assert result.exit_code == 1
    assert "bad.yaml: line" in result.output and "invalid YAML" in result.output
    assert "Traceback" not in result.output


def test_unreadable_rubric_is_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["rubric", "show", "--rubric", str(tmp_path / "no.yaml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_not_a_rubric_at_all(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("school_id,school_name\n1,A\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["rubric", "check", str(path)])
    assert result.exit_code == 1
    assert "a rubric is a YAML mapping with the keys" in result.output
