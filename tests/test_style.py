"""Library code logs instead of printing and never configures logging."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "claritymentor"


def test_no_print_or_logging_config_in_library_modules():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\bprint\(", code) or "logging.basicConfig" in code:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_every_module_is_small():
    """One job per module: none past 250 lines (app.py included)."""
    paths = [*PACKAGE.rglob("*.py"), PACKAGE.parent / "app.py"]
    long = {p.name: n for p in paths if (n := len(p.read_text().splitlines())) > 250}
    assert long == {}


def test_scripts_and_tests_read_no_private_field_of_a_package_object():
    """Scripts and tests use the package's public surface: a renamed private field (the LLM's tokenizer once)
    would break a benchmark or an evaluation that no test runs end to end."""
    root = PACKAGE.parent
    offenders = []
    for path in [*(root / "scripts").glob("*.py"), *(root / "tests").glob("*.py")]:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            for m in re.finditer(r"\b([a-z][a-z_]*)\._[a-z]\w*", code):
                if m.group(1) not in {"self", "cls", "os", "sys", "np", "torch", "_", "ort"}:
                    offenders.append(f"{path.name}:{n}: {m.group(0)}")
    assert offenders == []
