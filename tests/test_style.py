"""Library code logs instead of printing and never configures logging."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "claritymentor"


def test_no_print_or_logging_config_in_library_modules():
    offenders = []
    for path in PACKAGE.glob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\bprint\(", code) or "logging.basicConfig" in code:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []
