"""The requirements data: complete for every declared function, consistent with itself, equal to the README's
table, and — where Moodle 4.5.6's source is at hand — naming capabilities, titles and functions that exist."""

from __future__ import annotations

import ast
import functools
import os
import re
from pathlib import Path

import pytest

import moodle_sync
from moodle_sync.requirements import (
    ALL_FEATURES,
    CAPABILITY_NAMES,
    DEFAULT_FEATURES,
    EXTRA_FUNCTIONS,
    EXTRAS,
    FUNCTION_GATES,
    PROTOCOL_GATES,
    feature_requirements,
    requirements,
)
from moodle_sync.ws.functions import FEATURES, FUNCTIONS, required_for

README = Path(__file__).parents[1] / "README.md"
MOODLE_SRC = Path(os.environ.get("MOODLE_SRC", "/opt/moodle-src/moodle"))
CONTEXTS = {"system", "category", "course", "module", "user"}


def all_gates() -> list:
    return [g for gates in FUNCTION_GATES.values() for g in gates] + list(PROTOCOL_GATES.values())


def test_every_declared_function_has_its_capability_checks_and_nothing_else() -> None:
    assert set(FUNCTION_GATES) == set(FUNCTIONS)


def test_every_function_belongs_to_a_feature_and_every_feature_function_is_declared() -> None:
    featured = {f for feature in ALL_FEATURES if feature not in EXTRAS for f in required_for(feature)}
    extra = {f for fs in EXTRA_FUNCTIONS.values() for f in fs}
    assert featured | extra == set(FUNCTIONS) and not featured & extra
    assert set(EXTRA_FUNCTIONS) == set(EXTRAS)


def test_every_gate_names_a_known_capability_context_and_source() -> None:
    for gate in all_gates():
        assert gate.capability in CAPABILITY_NAMES, gate
        assert gate.context in CONTEXTS, gate
        assert re.search(r"\.php:\w+", gate.source), gate
        assert set(gate.features) <= set(ALL_FEATURES), gate
    assert {g.capability for g in all_gates()} == set(CAPABILITY_NAMES)   # no title without a use


def test_what_the_enrolling_and_importing_code_of_moodle_demands() -> None:
    provisioning = set(feature_requirements("provisioning").capability_names)
    assert {"moodle/role:assign", "enrol/manual:enrol", "moodle/backup:backuptargetimport",
            "moodle/restore:restoretargetimport", "moodle/question:add", "moodle/course:view",
            "moodle/course:viewhiddencourses", "moodle/category:manage", "moodle/course:create"} <= provisioning
    completion = set(feature_requirements("completion").capability_names)
    assert {"report/completion:view", "report/progress:view", "gradereport/user:view", "moodle/grade:viewall",
            "moodle/site:accessallgroups", "moodle/course:enrolreview", "mod/quiz:view"} <= completion
    assert "moodle/course:update" not in completion   # only provisioning reads courses' idnumber
    assert set(feature_requirements("diagnosis").capability_names) == {"moodle/site:viewparticipants",
                                                                       "moodle/role:review"}
    assert feature_requirements("core", ("soap",)).capability_names == ("webservice/soap:use",)


def test_the_default_requirements_leave_the_extras_out() -> None:
    doc = requirements().to_dict()
    assert [f for f, v in doc["features"].items() if v["included"]] == list(DEFAULT_FEATURES)
    assert not set(doc["functions"]) & {f for fs in EXTRA_FUNCTIONS.values() for f in fs}
    assert "moodle/user:delete" not in doc["capabilities"]
    with pytest.raises(KeyError):
        requirements(["no-such-extra"])


def readme_table() -> dict[str, set[str]]:
    """capability -> features, from the table in the README's "Set up Moodle web services" section."""
    text = README.read_text("utf-8")
    section = text[text.index("## Set up Moodle web services"):text.index("## Configuration and the token")]
    table: dict[str, set[str]] = {}
    for row in section.splitlines():
        if not row.startswith("| `"):
            continue
        first, _title, features = (cell.strip() for cell in row.strip("|").split("|"))
        for capability in re.findall(r"`([^`]+)`", first):
            assert capability not in table, f"README lists {capability} twice"
            table[capability] = {f.strip() for f in features.split(",")}
    return table


def test_the_readme_lists_exactly_the_capabilities_of_each_feature() -> None:
    expected: dict[str, set[str]] = {}
    for feature in ALL_FEATURES:
        for capability in feature_requirements(feature).capability_names:
            expected.setdefault(capability, set()).add(feature)
    assert readme_table() == expected


def test_the_readme_titles_are_moodles() -> None:
    text = README.read_text("utf-8")
    for capability, title in CAPABILITY_NAMES.items():
        if not capability.startswith("mod/"):
            assert f"| `{capability}` | {title} |" in text


# Against Moodle's own source, when it is there (MOODLE_SRC, default /opt/moodle-src/moodle).

needs_source = pytest.mark.skipif(not (MOODLE_SRC / "lib/db/access.php").exists(),
                                  reason="Moodle 4.5.6 source not extracted")


@functools.lru_cache(maxsize=1)
def _access_definitions() -> str:
    """Every db/access.php of the source tree, concatenated (read once)."""
    return "\n".join(p.read_text("utf-8", "replace") for p in MOODLE_SRC.glob("**/db/access.php"))


def _lang_file(capability: str) -> tuple[Path, str]:
    component, action = capability.split(":")
    kind, name = component.split("/")
    files = {"moodle": "lang/en/role.php", "mod": f"mod/{name}/lang/en/{name}.php",
             "enrol": f"enrol/{name}/lang/en/enrol_{name}.php", "report": f"report/{name}/lang/en/report_{name}.php",
             "gradereport": f"grade/report/{name}/lang/en/gradereport_{name}.php",
             "webservice": f"webservice/{name}/lang/en/webservice_{name}.php"}
    return MOODLE_SRC / files[kind], f"{name}:{action}"


@needs_source
@pytest.mark.parametrize("capability", sorted(CAPABILITY_NAMES))
def test_each_capability_exists_in_moodle_with_that_title(capability: str) -> None:
    assert f"'{capability}'" in _access_definitions(), f"{capability} is defined in no db/access.php"
    lang, key = _lang_file(capability)
    match = re.search(rf"^\$string\['{re.escape(key)}'\] = '(.*)';", lang.read_text("utf-8"), re.MULTILINE)
    assert match and match.group(1) == CAPABILITY_NAMES[capability]


@needs_source
@pytest.mark.parametrize("source", sorted({part.strip() for g in all_gates()
                                           for part in re.split(r"->|;", g.source)}))
def test_each_source_reference_names_a_function_of_that_file(source: str) -> None:
    path, function = source.split(":", 1)
    method = function.split("::")[-1]
    text = (MOODLE_SRC / path).read_text("utf-8")
    assert re.search(rf"function {re.escape(method)}\s*\(", text), source
    if "::" in function:
        assert re.search(rf"class {re.escape(function.split('::')[0])}\b", text), source
    assert re.search(r"capability|validate_context|require_login|get_assignable_roles|can_view|"
                     r"user_get_user_details|uservisible|check_report_access|precheck", text)


def test_features_of_the_tool_are_the_doctor_features() -> None:
    assert list(ALL_FEATURES)[:len(FEATURES)] == list(FEATURES)


def _functions_the_tool_calls() -> set[str]:
    """Web-service function names the tool's own code uses: named outside ws/moodle.py, or inside a method of
    ws/moodle.py that other code uses (the declarations, the requirements and the sandbox do not count)."""
    package = Path(moodle_sync.__file__).parent
    skip = {package / "ws" / "functions.py", package / "requirements.py"}
    sources = {p: p.read_text() for p in package.rglob("*.py") if p not in skip and "sandbox" not in p.parts}
    operations = package / "ws" / "moodle.py"
    others = "\n".join(text for p, text in sources.items() if p != operations)
    used = set(re.findall(r'"([a-z]+_[a-z_]+)"', others))
    for node in ast.walk(ast.parse(sources[operations])):
        if isinstance(node, ast.FunctionDef) and re.search(rf"\.{node.name}\b", others):
            used |= {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return used


def test_the_service_grants_only_functions_the_tool_calls() -> None:
    assert set(requirements().functions) - _functions_the_tool_calls() == set()
