"""Where the templates, static files and seeds are, in a source checkout and when installed.

They live at the top of the repository (``templates/``, ``static/``, ``seeds/``), where people edit
them. A wheel carries copies inside the package (``contest/_data/``, put there by ``setup.py`` at
build time); an editable install and the tests use the checkout's folders. Everything that needs one
of them asks here.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parents[1]  # src/contest -> the repository (only meaningful in a checkout)
PACKAGED_DIR = PACKAGE_DIR / "_data"
RESOURCES = ("templates", "static", "seeds")


def resource_dir(name: str) -> Path:
    """The folder ``name`` (one of RESOURCES): packaged with a wheel, else the checkout's."""
    if name not in RESOURCES:
        raise ValueError(f"unknown resource folder {name!r}")
    packaged = PACKAGED_DIR / name
    if packaged.is_dir():
        return packaged
    checkout = CHECKOUT_DIR / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"{name}/ is neither packaged ({packaged}) nor in a checkout ({checkout}): reinstall contest")


def templates_dir() -> Path:
    return resource_dir("templates")


def static_dir() -> Path:
    return resource_dir("static")


def seeds_dir() -> Path:
    return resource_dir("seeds")
