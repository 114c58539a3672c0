"""The wheel serves: built from the sources, installed (not editable) into a fresh virtual
environment outside the repository, and run from an empty directory: migrate, load the demo,
serve, and fetch a page, a static file and the judges' tablet.

The new environment borrows the already installed dependencies (a .pth line to this venv's
site-packages) so the test needs no package index; ``contest`` itself must come from the wheel,
which the test checks.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from contest import __version__
from contest.settings import REPO_ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*args: str | Path, cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@dataclass
class Built:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The sdist, built from the tracked files (the PEP 517 hook, as `python -m build --sdist`
    calls it), then the wheel built from that sdist: so the wheel proves the sdist is complete."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    (root / "dist").mkdir()
    build_sdist = f"from setuptools import build_meta; print(build_meta.build_sdist({str(root / 'dist')!r}))"
    sdist = root / "dist" / _run(sys.executable, "-c", build_sdist, cwd=source, env=env).strip().splitlines()[-1]
    with tarfile.open(sdist) as archive:
        archive.extractall(root / "unpacked", filter="data")
    [unpacked] = (root / "unpacked").iterdir()
    _run(sys.executable, "-m", "pip", "wheel", unpacked, "--no-deps", "--no-build-isolation", "-w", root / "dist", cwd=root, env=env)
    [wheel] = (root / "dist").glob("contest-*.whl")
    return Built(sdist, wheel)


@pytest.fixture(scope="module")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel installed; returns its bin/ directory."""
    root = tmp_path_factory.mktemp("venv")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    target = root / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", built.wheel, cwd=root, env=env)
    site_packages = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root, env=env).strip()
    (Path(site_packages) / "_contest_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return target / "bin"


def _tracked(folder: str) -> set[str]:
    """The tracked files under ``folder`` of the checkout (what a release must carry)."""
    listed = subprocess.run(["git", "ls-files", folder], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.splitlines()
    return {name for name in listed if "__pycache__" not in name}


def test_the_sdist_and_the_wheel_built_from_it_carry_every_resource(built: Built) -> None:
    """Templates, static files, seeds (without their make_*.py generators in the wheel),
    migrations and the compiled translations: in the sdist where the checkout has them, and in
    the wheel where the installed package looks for them (contest/_data/, contest/db, contest/locale)."""
    with tarfile.open(built.sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        in_sdist = {name.removeprefix(top + "/") for name in archive.getnames()}
    with zipfile.ZipFile(built.wheel) as archive:
        in_wheel = set(archive.namelist())

    resources = {name for folder in ("templates", "static", "seeds") for name in _tracked(folder)}
    migrations = {name for name in _tracked("src/contest/db/migrations") if not name.endswith("README")}
    catalogs = {name for name in _tracked("src/contest/locale") if name.endswith(".mo")}
    assert {"templates/base.html", "static/css/app.css", "seeds/demo/competition.toml"} <= resources  # the listing is real
    assert any(name.endswith("0001_initial_schema.py") for name in migrations) and catalogs
    assert not (resources | migrations | catalogs | {"setup.py", "pyproject.toml"}) - in_sdist, "missing from the sdist"

    packaged = {f"contest/_data/{name}" for name in resources if not Path(name).name.startswith("make_")}
    packaged |= {name.removeprefix("src/") for name in migrations | catalogs}
    assert not packaged - in_wheel, f"missing from the wheel: {sorted(packaged - in_wheel)[:10]}"
    assert not [name for name in in_wheel if Path(name).name.startswith("make_")], "the seed generators are not for the wheel"


def test_the_wheel_installs_migrates_loads_the_demo_and_serves(installed: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "hall-laptop"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTEST_")}
    where = _run(installed / "python", "-c", "import contest; print(contest.__file__)", cwd=workdir, env=env)
    assert where.startswith(str(installed.parent)), f"contest imported from {where}, not from the wheel"
    assert __version__ in _run(installed / "contest", "--version", cwd=workdir, env=env)

    _run(installed / "contest", "db", "upgrade", cwd=workdir, env=env)
    demo = _run(installed / "contest", "demo", "load", cwd=workdir, env=env)
    assert "judge2" in demo
    assert (workdir / "var" / "contest.db").is_file()  # ./var of the directory it runs in

    port = _free_port()
    server = subprocess.Popen(
        [str(installed / "contest"), "serve", "--port", str(port)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as client:
            home = client.get("/")
            assert home.status_code == 200 and "技能竞赛管理" in home.text
            assert client.get("/static/css/app.css").status_code == 200
            assert client.get("/static/js/tablet.js").status_code == 200
            login = client.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]  # no match fails the test here
            client.post("/login", data={"username": "judge2", "password": "demo-2026", "_csrf_token": token})
            tablet = client.get("/tablet")
            assert tablet.status_code == 200 and 'id="tablet-config"' in tablet.text
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "Traceback" not in output, output[-3000:]
