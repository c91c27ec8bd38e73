"""Every tool's sample exports are recognised as that tool, and as no other: each writer's file
scores at least 0.8 for its own tool and at most 0.3 for every other tool, so ``--tool auto``
picks the right reader and a wrong ``--tool`` is refused.

Tool helpers: add your sample writers to ``SAMPLES`` as ``(tool, "module:function", kwargs)``;
the function takes the folder to write into and returns the file's path. An entry whose sample
module, function or reader module is not there yet is skipped, not failed.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from cxloop.errors import Invalid
from cxloop.surveys.importers import registry
from cxloop.surveys.importers.grid import read_grid, text_grid
from cxloop.surveys.importers.model import Tool

OWN = 0.8
OTHERS = 0.3
PREFIX = "tests.surveys.imports."

SAMPLES: list[tuple[Tool, str, dict[str, Any]]] = [
    ("qualtrics", "samples_qualtrics:write_csv", {"numeric": True}),
    ("qualtrics", "samples_qualtrics:write_csv", {"numeric": False}),
    ("qualtrics", "samples_qualtrics:write_csv", {"numeric": True, "german": True}),
    ("qualtrics", "samples_qualtrics:write_tsv", {"numeric": True}),
    ("qualtrics", "samples_qualtrics:write_xlsx", {"numeric": False}),
    ("qualtrics", "samples_qualtrics:write_legacy", {"numeric": True}),
    ("qualtrics", "samples_qualtrics:write_legacy", {"numeric": False}),
    ("surveymonkey", "samples_surveymonkey:write_text_csv", {}),
    ("surveymonkey", "samples_surveymonkey:write_numeric_csv", {}),
    ("surveymonkey", "samples_surveymonkey:write_excel_resaved_csv", {}),
    ("surveymonkey", "samples_surveymonkey:write_xlsx", {}),
    ("surveymonkey", "samples_surveymonkey:write_xlsx", {"numeric": True}),
    ("surveymonkey", "samples_surveymonkey:write_condensed_csv", {}),
    ("limesurvey", "samples_limesurvey:code_short", {}),
    ("limesurvey", "samples_limesurvey:code_long", {}),
    ("limesurvey", "samples_limesurvey:full_long_en", {}),
    ("limesurvey", "samples_limesurvey:full_long_nl", {}),
    ("limesurvey", "samples_limesurvey:codetext_long", {}),
    ("limesurvey", "samples_limesurvey:sgqa_short", {}),
    ("limesurvey", "samples_limesurvey:excel_long", {}),
    ("formbricks", "samples_formbricks:write_csv", {}),
    ("formbricks", "samples_formbricks:write_xlsx", {}),
    ("formbricks", "samples_formbricks:write_older_csv", {}),
    ("formbricks", "samples_formbricks:write_oldest_csv", {}),
    ("wjx", "samples_wjx:text_xls", {}),
    ("wjx", "samples_wjx:positions_xls", {}),
    ("wjx", "samples_wjx:text_xlsx", {}),
    ("wjx", "samples_wjx:positions_xlsx", {}),
    ("wjx", "samples_wjx:text_csv", {}),
    ("wjx", "samples_wjx:positions_csv_gb18030", {}),
]


def _writer(tool: Tool, target: str) -> Any:
    """The sample writer, or a skip naming what is not there yet."""
    if importlib.util.find_spec(f"{registry.PACKAGE}.{tool}") is None:
        pytest.skip(f"no reader module for {tool} yet")
    module_name, _, function = target.partition(":")
    if importlib.util.find_spec(PREFIX + module_name) is None:
        pytest.skip(f"no sample module {module_name} yet")
    module = importlib.import_module(PREFIX + module_name)
    if not hasattr(module, function):
        pytest.skip(f"{module_name} has no {function} yet")
    return getattr(module, function)


def _id(entry: tuple[Tool, str, dict[str, Any]]) -> str:
    _tool, target, kwargs = entry
    extra = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{target.partition(':')[2]}({extra})" if extra else target.partition(":")[2]


@pytest.mark.parametrize("entry", SAMPLES, ids=[f"{e[0]}-{_id(e)}" for e in SAMPLES])
def test_each_sample_is_detected_as_its_own_tool_and_no_other(
    entry: tuple[Tool, str, dict[str, Any]], tmp_path: Path
) -> None:
    tool, target, kwargs = entry
    path = Path(_writer(tool, target)(tmp_path, **kwargs))
    grid = read_grid(path)
    scores = registry.scores(grid)
    wrong = {other: s for other, s in scores.items() if other != tool and s > OTHERS}
    assert scores[tool] >= OWN, f"{path.name}: {tool} scores {scores[tool]:.2f} ({scores})"
    assert not wrong, f"{path.name} ({tool}) also looks like {wrong}"
    assert registry.detect_tool(grid) == tool


def test_a_file_no_tool_wrote_is_refused_with_every_tools_score() -> None:
    installed = registry.readers()
    if not installed:
        pytest.skip("no tool reader installed yet")
    grid = text_grid("name,age,city\n李娜,34,上海\nTom,41,London\n".encode(), "people.csv")
    with pytest.raises(Invalid) as caught:
        registry.detect_tool(grid)
    problem = caught.value.problems[0]
    assert problem.field == "file" and problem.value == "people.csv"
    assert "cannot tell which tool wrote it" in problem.reason
    assert "name it with --tool" in problem.reason
    for tool in installed:
        assert tool in problem.reason  # each tool's score is shown


def test_a_named_tool_the_file_is_not_is_refused(tmp_path: Path) -> None:
    tool, target, kwargs = next(
        (e for e in SAMPLES if importlib.util.find_spec(f"{registry.PACKAGE}.{e[0]}")),
        SAMPLES[0],
    )
    others = [t for t in registry.readers() if t != tool and t != "wenjuan"]
    if not others:
        pytest.skip("needs two tool readers")
    grid = read_grid(Path(_writer(tool, target)(tmp_path, **kwargs)))
    with pytest.raises(Invalid) as caught:
        registry.check_tool(grid, others[0])
    reason = caught.value.problems[0].reason
    assert f"looks like a {tool} export" in reason and f"not {others[0]}" in reason
    registry.check_tool(grid, tool)  # its own tool passes


def test_an_unknown_tool_name_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(Invalid) as caught:
        registry.reader("typeform")
    problem = caught.value.problems[0]
    assert problem.field == "--tool" and problem.value == "typeform"
    assert "is not a tool cxloop can import" in problem.reason


def test_a_reader_that_trips_over_an_odd_file_scores_zero_instead_of_failing() -> None:
    if not registry.readers():
        pytest.skip("no tool reader installed yet")
    odd = text_grid(b"\n\n;;;\n", "odd.csv")  # no header, no cells: a sniffer may index past it
    scores = registry.scores(odd)
    assert set(scores) == set(registry.readers())
    assert all(0.0 <= s <= OTHERS for s in scores.values()), scores


def _sniffers(monkeypatch: pytest.MonkeyPatch, found: dict[str, float]) -> None:
    """Readers that answer fixed scores (the thresholds, whatever the real readers say)."""
    from types import SimpleNamespace

    from cxloop.surveys.importers.model import TOOLS

    fakes = {t: SimpleNamespace(detect=lambda _g, s=found.get(t, 0.0): s) for t in TOOLS}
    monkeypatch.setattr(registry, "READERS", fakes)


def test_two_near_equal_scores_are_a_guess_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = text_grid(b"a,b\n1,2\n", "x.csv")
    _sniffers(monkeypatch, {"qualtrics": 0.7, "limesurvey": 0.65})
    with pytest.raises(Invalid) as caught:
        registry.detect_tool(grid)
    assert "(qualtrics 0.7, limesurvey 0.7, surveymonkey 0.0" in caught.value.problems[0].reason
    _sniffers(monkeypatch, {"qualtrics": 0.7, "limesurvey": 0.55})
    assert registry.detect_tool(grid) == "qualtrics"
    _sniffers(monkeypatch, {"qualtrics": 0.45})
    with pytest.raises(Invalid):
        registry.detect_tool(grid)  # nobody is sure
