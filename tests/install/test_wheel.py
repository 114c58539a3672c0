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
import time
import venv
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


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel installed; returns its bin/ directory."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    for name in tracked.stdout.splitlines():
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    _run(sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--no-build-isolation", "-w", root / "dist", cwd=root, env=env)
    [wheel] = (root / "dist").glob("contest-*.whl")
    target = root / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", wheel, cwd=root, env=env)
    site_packages = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root, env=env).strip()
    (Path(site_packages) / "_contest_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return target / "bin"


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
