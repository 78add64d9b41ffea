"""Real API and worker processes for the end-to-end job tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from shared.settings import Settings
from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_env(settings: Settings) -> dict[str, str]:
    """The PMTREC_* environment that gives a process these settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PMTREC_") or key == "PMTREC_TEST_DATABASE_URL"
    }
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"PMTREC_{name.upper()}"] = (
            str(value).lower() if isinstance(value, bool) else str(value)
        )
    env.update({"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    return env


class Process:
    """A child process whose output goes to a log file (shown when a test fails)."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 (closed in stop)
        self.popen = subprocess.Popen(
            command, cwd=log_dir, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pause(self) -> None:
        """SIGSTOP: the process is alive but gets no CPU, as on a badly overloaded machine."""
        self.popen.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.popen.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or an OOM kill."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=30)
        self._log.close()
        return self.popen.returncode


def start_api(
    env: dict[str, str], log_dir: Path, bundle: Path | None = None
) -> tuple[Process, str]:
    port = free_port()
    command = [sys.executable, "-X", "importtime", "-m", "service", "--port", str(port)]
    command += ["--log-level", "warning"] + (["--bundle", str(bundle)] if bundle else [])
    process = Process("api", command, env, log_dir)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, timeout=5) as client:

        def ready() -> bool:
            try:
                return client.get("/readyz").status_code == 200
            except httpx.TransportError:
                return False

        if not wait_for(ready, 90, process):
            process.stop()
            raise RuntimeError(f"the API did not become ready:\n{process.log()[-3000:]}")
    return process, url


def start_worker(
    env: dict[str, str], log_dir: Path, name: str = "worker", args: tuple[str, ...] = ()
) -> Process:
    command = [sys.executable, "-m", "trainer.worker", "--worker-id", name, *args]
    return Process(name, command, env, log_dir)


def wait_for(condition: Callable[[], bool], seconds: float, process: Process | None = None) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        if process is not None and not process.alive():
            return False
        time.sleep(0.1)
    return False


def imported_modules(log: str) -> set[str]:
    """Module names from a ``python -X importtime`` log."""
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in log.splitlines()
        if line.startswith("import time:")
    }
