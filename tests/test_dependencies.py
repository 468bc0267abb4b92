"""Dependencies are lower bounds; an upper bound is only a major version, and only where we use a
library's internals (reportlab: pdf_layout writes PDF text operators itself)."""

from __future__ import annotations

import configparser
from importlib.metadata import version
from pathlib import Path

import pytest

requirements = pytest.importorskip("packaging.requirements")

SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"


def install_requires() -> list[str]:
    config = configparser.ConfigParser()
    config.read(SETUP_CFG, encoding="utf-8")
    lines = config["options"]["install_requires"].splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("line", install_requires())
def test_a_lower_bound_and_at_most_a_major_upper_bound(line: str) -> None:
    requirement = requirements.Requirement(line)
    operators = {spec.operator for spec in requirement.specifier}
    assert ">=" in operators and operators <= {">=", "<"}, line
    for spec in requirement.specifier:
        if spec.operator == "<":
            assert spec.version.isdigit(), f"{line}: an upper bound is a major version"
    assert requirement.specifier.contains(version(requirement.name), prereleases=True), line


def test_reportlab_allows_the_next_releases_of_its_major() -> None:
    [line] = [line for line in install_requires() if line.startswith("reportlab")]
    specifier = requirements.Requirement(line).specifier
    assert specifier.contains("4.4.10") and specifier.contains("5.9")
