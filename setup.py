"""Build hook: copy the top-level templates/, static/ and seeds/ into the wheel (contest/_data/).

Everything else about the package is in pyproject.toml. An editable install (make run, the tests)
reads the folders in place; see src/contest/resources.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCES = ("templates", "static", "seeds")


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # an editable install reads the checkout's folders
        target = Path(self.build_lib) / "contest" / "_data"
        for name in RESOURCES:
            shutil.copytree(
                ROOT / name, target / name, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "make_*.py")
            )


setup(cmdclass={"build_py": BuildWithResources})
