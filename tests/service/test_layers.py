"""The web framework stays in the HTTP layer: the model, pipeline, gallery and batch tools never import it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("fastapi", "starlette")
# The HTTP layer: the routers, their dependencies, the application, the error mapping, and the
# request plumbing (middleware, server, protocol, framing, body, upload, security).
HTTP_MODULES = {
    "service/app.py",
    "service/errors.py",
    "service/dependencies.py",
    "service/middleware.py",
    "service/server.py",
    "service/protocol.py",
    "service/framing.py",
    "service/body.py",
    "service/upload.py",
    "service/security.py",
}
FRAMEWORK_FREE = (
    "service.domain_errors",
    "service.model",
    "service.pipeline",
    "service.gallery.store",
    "service.gallery.backends",
    "service.gallery.gallery",
    "service.gallery.enrolment",
    "service.batch.tagging",
    "service.settings",  # read by the offline tools too
    "service.batch.cli",
    "service.gallery.enrol_cli",
)


def _imports_framework(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        if any(name.split(".")[0] in FRAMEWORKS for name in names):
            return True
    return False


def test_only_the_http_layer_imports_the_framework() -> None:
    importing = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "service").rglob("*.py")
        if _imports_framework(p) and not p.relative_to(REPO).as_posix().startswith("service/routers/")
    }
    assert importing <= HTTP_MODULES, f"outside the HTTP layer: {sorted(importing - HTTP_MODULES)}"
    assert "service/errors.py" in importing  # the check sees an import when there is one


@pytest.mark.parametrize("module", FRAMEWORK_FREE)
def test_the_core_does_not_load_the_framework(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS}))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]", f"{module} loads {result.stdout.strip()}"
