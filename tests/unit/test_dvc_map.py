"""dvc.yaml is the map of the project, complete by construction: each stage depends on its stage module and on every
module its code imports, transitively (a folder where it imports every module in it); no stage imports another; no
code dependency is declared that the stage does not run whole; output paths and model folder names are spelled in
dvc.yaml, not in Python."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from face_emotion.core.config import Params
from tests.helpers import REPO

PACKAGES = ("face_emotion", "stages")


def dvc_stages() -> dict[str, dict]:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def module_file(name: str) -> Path | None:
    """The repository file of a module of ours ('face_emotion.au.extract'), or None (a library's, or not a module)."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def has_code(init: Path) -> bool:
    """Whether a package __init__ does anything beyond its docstring (one that does not cannot change an output)."""
    body = ast.parse(init.read_text()).body
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body)


def imported_files(path: Path) -> set[Path]:
    """Our modules that ``path`` imports anywhere in its code (lazy imports inside functions included), with the
    package __init__ files Python runs on the way."""
    found: set[Path] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        for name in names:
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):
                file = module_file(".".join(parts[:depth]))
                if file is not None and (file.name != "__init__.py" or has_code(file)):
                    found.add(file)
    return found


def code_of(stage_module: Path) -> set[Path]:
    """Every file of ours the stage module runs: its imports, followed transitively."""
    seen, todo = {stage_module}, [stage_module]
    while todo:
        for file in imported_files(todo.pop()) - seen:
            seen.add(file)
            todo.append(file)
    return seen


def declared_code(stage: dict) -> list[Path]:
    return [REPO / dep for dep in stage["deps"] if dep.split("/")[0] in PACKAGES]


def covers(dep: Path, file: Path) -> bool:
    return file == dep or dep in file.parents


STAGES = dvc_stages()


@pytest.mark.parametrize("name", list(STAGES))
def test_each_stage_depends_on_all_the_code_it_runs(name):
    stage = STAGES[name]
    assert stage["cmd"] == f"python -m stages.{name}", "a stage runs its own module"
    declared = declared_code(stage)
    missing = sorted(str(f.relative_to(REPO)) for f in code_of(REPO / "stages" / f"{name}.py")
                     if not any(covers(dep, f) for dep in declared))
    assert not missing, f"stage '{name}' runs code dvc.yaml does not list among its deps: {missing}"


def code_files(dep: Path) -> set[Path]:
    """The files of ours a code dependency holds: itself, or a folder's modules (package __init__ files that do
    nothing left out)."""
    if dep.is_file():
        return {dep}
    return {f for f in dep.rglob("*.py") if f.name != "__init__.py" or has_code(f)}


@pytest.mark.parametrize("name", list(STAGES))
def test_each_declared_code_dependency_is_used_whole(name):
    """The rerun radius is as small as the imports: a folder is listed only where the stage runs every module in it
    (else its files are listed one by one), so editing a module reruns only the stages that run it."""
    code = code_of(REPO / "stages" / f"{name}.py")
    unused = {str(dep.relative_to(REPO)): sorted(str(f.relative_to(dep)) for f in code_files(dep) - code)
              for dep in declared_code(STAGES[name]) if code_files(dep) - code}
    assert not unused, f"stage '{name}' lists code it does not run (dep: its modules not run): {unused}"


def test_no_stage_imports_another():
    for module in (REPO / "stages").glob("*.py"):
        others = [f for f in imported_files(module) if f.parent.name == "stages" and f.name != "__init__.py"]
        assert not others, f"{module.name} imports {others}"


OUTPUT_ROOTS = re.compile(r"""["'](features|models|reports|metrics|plots|cache)/""")


@pytest.mark.parametrize("folder", ["face_emotion", "stages", "benchmarks"])
def test_output_paths_are_spelled_in_dvc_yaml_only(folder):
    """Python reads the pipeline's paths from dvc.yaml (face_emotion.core.paths); it never spells them."""
    spelled = [f"{file.relative_to(REPO)}:{number}" for file in sorted((REPO / folder).rglob("*.py"))
               for number, line in enumerate(file.read_text().splitlines(), start=1) if OUTPUT_ROOTS.search(line)]
    assert not spelled, f"output paths spelled in Python: {spelled}"


def test_params_are_checked_before_any_stage_runs():
    """check_params reads every params section and the data; every other stage depends on its marker, so DVC runs
    it first and deletes nothing when a value is rejected (DVC deletes a stage's outputs just before running it)."""
    check = STAGES["check_params"]
    assert set(check["params"]) == {field.name for field in dataclasses.fields(Params)} and "${data.root}" in check["deps"]
    assert check["outs"] == [{"${paths.params_check}": {"persist": True}}]  # a failed check keeps the marker too
    for name, stage in STAGES.items():
        if name != "check_params":
            assert stage["deps"][0] == "${paths.params_check}", name


MODEL_FOLDERS = {Path(path).name for path in yaml.safe_load((REPO / "dvc.yaml").read_text())["vars"][0]["paths"].values()
                 if path.startswith("models/")}


def joined_folder_names(tree: ast.AST) -> list[int]:
    """Lines where a path is joined with a model folder's name: spelled (`parent / "mask_detector"`) or through a
    name or attribute holding it (`parent / MASK_DETECTOR_DIR`)."""
    holders = {target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
               for node in ast.walk(tree) if isinstance(node, ast.Assign | ast.AnnAssign)
               and isinstance(node.value, ast.Constant) and node.value.value in MODEL_FOLDERS
               for target in (node.targets if isinstance(node, ast.Assign) else [node.target])}

    def names_a_folder(operand: ast.expr) -> bool:
        return ((isinstance(operand, ast.Constant) and operand.value in MODEL_FOLDERS)
                or (isinstance(operand, ast.Name) and operand.id in holders)
                or (isinstance(operand, ast.Attribute) and operand.attr in holders))

    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and names_a_folder(node.right)]


@pytest.mark.parametrize("folder", ["face_emotion", "stages", "benchmarks"])
def test_no_model_folder_is_found_by_a_name_spelled_in_python(folder):
    """A model's companions (mask detector, model of masked faces, AU surrogate) are found through the
    companions.json its stage writes from dvc.yaml's paths, never by joining a folder name: `models / "mask_detector"`
    would silently stop working when dvc.yaml renames the folder."""
    assert {"au_model", "mask_detector", "upper_face_au_model", "surrogates"} <= MODEL_FOLDERS
    joined = [f"{file.relative_to(REPO)}:{line}" for file in sorted((REPO / folder).rglob("*.py"))
              for line in joined_folder_names(ast.parse(file.read_text()))]
    assert not joined, f"model folders found by a name spelled in Python: {joined}"


def test_the_folder_name_check_sees_a_name_held_in_a_constant():
    before = 'MASK_DETECTOR_DIR = "mask_detector"\nbeside = model_dir.parent / MASK_DETECTOR_DIR\nx = p / "cnn"\n'
    assert joined_folder_names(ast.parse(before)) == [2, 3]


def test_reading_data_needs_no_au_measurement():
    """data/ reads inputs and finds faces (faces/) to crop video frames; it never runs AU measurement (au/), which
    reads data/ itself: the packages form no cycle."""
    au = REPO / "face_emotion" / "au"
    for module in sorted((REPO / "face_emotion" / "data").glob("*.py")):
        measuring = sorted(str(f.relative_to(REPO)) for f in code_of(module) if au in f.parents)
        assert not measuring, f"{module.name} runs AU measurement: {measuring}"
