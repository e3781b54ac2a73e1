"""`orders.pricing` is pure: no database, no models, no settings, no I/O, no clock."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import orders.pricing

PACKAGE = Path(orders.pricing.__file__).parent
ALLOWED_IMPORTS = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "itertools",
    "operator",
    "typing",
    "django.utils.text",  # format_lazy: messages translated when shown
    "django.utils.translation",
}
FORBIDDEN_CALLS = {"open", "print", "input", "now", "today", "utcnow", "time", "random"}


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module or "")
    return names


class PurityTests:
    def test_the_package_imports_only_the_standard_library_translation_and_itself(self):
        for path in sorted(PACKAGE.glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for name in _imports(tree):
                assert name in ALLOWED_IMPORTS or name.startswith("orders.pricing"), f"{path.name} imports {name}"

    def test_no_io_or_clock_calls(self):
        for path in sorted(PACKAGE.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                    assert name not in FORBIDDEN_CALLS, f"{path.name} calls {name}()"

    def test_importing_it_loads_no_database_or_models_module(self):
        code = (
            "import json, sys; import orders.pricing; "
            "print(json.dumps(sorted(m for m in sys.modules if m == 'django.db' or m.startswith('django.db.') "
            "or m.endswith('.models') or m == 'django.conf' or m.startswith('django.conf.'))))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent.parent, timeout=60
        )
        assert json.loads(result.stdout) == []
