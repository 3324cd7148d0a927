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
