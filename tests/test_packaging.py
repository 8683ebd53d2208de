"""What people install and run: declared dependencies, the settings list, and the container's commands."""

import ast
import os
import re
import secrets
import subprocess
import sys
import sysconfig
import time
import urllib.request
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from bookapp.embedded_redis import free_port
from tests.conftest import ROOT, stop_worker

STDLIB = sys.stdlib_module_names


def imported_modules(folder: Path) -> set[str]:
    """Return the top-level third-party modules imported anywhere under *folder* (inside functions too)."""
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in STDLIB and m not in {"bookapp", "tests", "bench"}}


def declared(*files: str) -> set[str]:
    """Return the normalised names of the distributions listed in requirement *files* (following -r)."""
    names = set()
    for name in files:
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("-r "):
                names |= declared(line[3:].strip())
            elif line:
                names.add(re.sub(r"[-_.]+", "-", Requirement(line).name.lower()))
    return names


def distributions_of(modules: set[str]) -> dict[str, set[str]]:
    owners = packages_distributions()
    return {m: {re.sub(r"[-_.]+", "-", d.lower()) for d in owners.get(m, [m])} for m in modules}


def test_every_package_the_app_imports_is_declared_in_requirements_txt():
    runtime = declared("requirements.txt")
    modules = imported_modules(ROOT / "bookapp") | imported_modules(ROOT / "migrations")
    missing = {m: d for m, d in distributions_of(modules).items() if not d & runtime}
    assert not missing, f"imported by the app but not in requirements.txt: {missing}"


def test_every_package_the_tests_and_bench_import_is_declared():
    everything = declared("requirements-dev.txt")
    modules = imported_modules(ROOT / "tests") | imported_modules(ROOT / "bench")
    missing = {m: d for m, d in distributions_of(modules).items() if not d & everything}
    assert not missing, f"imported by tests or bench but not in requirements-dev.txt: {missing}"


def test_the_locks_pin_every_declared_package_with_hashes():
    for requirements, lock in (
        ("requirements.txt", "requirements.lock"),
        ("requirements-dev.txt", "requirements-dev.lock"),
    ):
        text = (ROOT / lock).read_text()
        pinned = {re.sub(r"[-_.]+", "-", m.lower()) for m in re.findall(r"^([A-Za-z0-9_.-]+)==", text, re.M)}
        assert declared(requirements) <= pinned, f"{lock} is older than {requirements}: run `make lock`"
        hashed = re.findall(r"^[A-Za-z0-9_.-]+==\S+ \\\n\s+--hash=sha256:", text, re.M)
        assert len(hashed) == len(pinned), "every pinned package carries its hashes"


def settings_read_by_the_code() -> set[str]:
    names = set()
    for path in (ROOT / "bookapp").rglob("*.py"):
        names |= set(re.findall(r"""(?:environ|env)\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    return names


def test_every_setting_is_in_env_example_and_the_readme():
    settings = settings_read_by_the_code()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "BOOKAPP_WORKERS"} <= settings
    example = {line.split("=")[0] for line in (ROOT / ".env.example").read_text().splitlines() if "=" in line
               and not line.startswith("#")}  # fmt: skip
    assert settings <= example, f"missing from .env.example: {settings - example}"
    readme = (ROOT / "README.md").read_text()
    assert not {s for s in settings if f"`{s}`" not in readme}, "every setting has a row in the README"


def test_the_image_copies_what_the_app_needs_and_runs_as_a_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            copied.update(p.rstrip("/") for p in line.split()[1:-1] if not p.startswith("--"))
    for needed in ("requirements.lock", "wsgi.py", ".flaskenv", "bookapp", "migrations", "templates", "static"):
        assert needed in copied and (ROOT / needed).exists(), needed
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M), "the image does not run as root"
    assert "--require-hashes -r requirements.lock" in dockerfile


def compose_commands() -> dict[str, list[str]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name: service["command"] for name, service in services.items() if service.get("build") or "<<" in service
            or service.get("image") == "bookapp"}  # fmt: skip


def test_compose_runs_the_upgrade_once_before_the_web_and_the_workers():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["redis"]["command"][:3] == ["redis-server", "--appendonly", "yes"]
    for name in ("web", "worker", "indexer"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["restart"] == "unless-stopped"
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"][-2:] == ["--role", "imports"]
    assert services["indexer"]["command"][-2:] == ["--role", "indexes"]
    assert services["migrate"]["depends_on"]["db"] == {"condition": "service_healthy"}
    dockerfile_cmd = re.search(r"^CMD (.+)$", (ROOT / "Dockerfile").read_text(), re.M).group(1)
    assert yaml.safe_load(dockerfile_cmd) == services["web"]["command"]
    assert all("volumes" not in s or "." not in [v.split(":")[0] for v in s["volumes"]] for s in services.values()), (
        "no service mounts the checkout"
    )


@pytest.mark.slow
def test_the_containers_commands_set_up_serve_and_work_here(redis_url, redis_client, tmp_path):
    """Run compose's migrate, web and worker commands as they are written, from the checkout, without --app."""
    commands = compose_commands()
    database_url = f"sqlite:///{tmp_path / 'compose.sqlite3'}"
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_hex(32),
           "UPLOAD_FOLDER": str(tmp_path / "uploads"), "BOOKAPP_ENV": "production"}  # fmt: skip
    env_all = {k: v for k, v in os.environ.items() if k != "FLASK_APP"} | env
    scripts = Path(sysconfig.get_path("scripts"))
    assert commands["migrate"][0] == "flask"
    migrated = subprocess.run([scripts / "flask", *commands["migrate"][1:]], cwd=ROOT, env=env_all,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    web_command = [a.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for a in commands["web"]]
    processes = [
        subprocess.Popen([scripts / web_command[0], *web_command[1:]], cwd=ROOT, env=env_all, start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([scripts / commands["worker"][0], *commands["worker"][1:]], cwd=ROOT, env=env_all,
                         start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                    answer = response.status
                    break
            except OSError:
                time.sleep(0.3)
        assert answer == 200, "the web answers /healthz with the database, Redis and a worker all there"
    finally:  # SIGTERM, then SIGKILL for any that outlive it: a worker left running answers the next test's /healthz
        for process in processes:
            stop_worker(process)


def test_flask_commands_need_no_app_option(sqlite_app, redis_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "FLASK_APP"}
    env |= {"DATABASE_URL": sqlite_app.config["SQLALCHEMY_DATABASE_URI"], "REDIS_URL": redis_url}
    result = subprocess.run([sys.executable, "-m", "flask", "--help"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0 and "import-books" in result.stdout and "db" in result.stdout
