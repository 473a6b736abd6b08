"""A private PostgreSQL server for the tests that stop or restart their database: initdb and
pg_ctl in a temporary folder, on a free port, run as the postgres user when the tests run as root. The
shared server of DNNSWEEP_TEST_POSTGRES_URL is never touched; a test skips (with the reason)
when PostgreSQL's server programs are not on this machine."""
import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from pg_helpers import free_port, wait_until_up


def server_program(name):
    """initdb, pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin (Debian's place)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit()
                        else 0)
    return candidates[-1] if candidates else None


class PrivateServer:
    """One PostgreSQL cluster of this test alone: url, stop(), start(), restart()."""

    def __init__(self, root, port, as_user):
        self.root, self.port, self.as_user = Path(root), port, as_user
        self.data = self.root / "data"
        self.url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/postgres"

    def _run(self, program, *args, timeout=120):
        cmd = [server_program(program), *map(str, args)]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError(f"{program} exited {done.returncode}: {done.stdout}"
                                 f"{done.stderr}")
        return done

    def _options(self):
        return (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c full_page_writes=off")

    def init(self):
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "-o",
                  self._options(), "start")
        assert wait_until_up(self.url, timeout=60), "the private PostgreSQL did not start"

    def restart(self):
        """pg_ctl restart -m fast, as pg_ctlcluster restart does: sessions are ended, the
        server is stopped and started again (a new pg_postmaster_start_time)."""
        self._run("pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-m", "fast",
                  "-w", "-o", self._options(), "restart")
        assert wait_until_up(self.url, timeout=60), "the private PostgreSQL did not restart"

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")

    def running(self):
        return (self.data / "postmaster.pid").exists()


def _user_for_server():
    """The user that runs the server: postgres when this is root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("a private PostgreSQL server cannot run as root and there is no "
                    "postgres user")
    if not shutil.which("runuser"):
        pytest.skip("a private PostgreSQL server as user postgres needs runuser")
    return "postgres"


@contextlib.contextmanager
def private_server():
    """A started private server (stopped and removed afterwards); skips the test when
    initdb or pg_ctl is missing or psycopg2 is not installed."""
    missing = [p for p in ("initdb", "pg_ctl") if server_program(p) is None]
    if missing:
        pytest.skip(f"a private PostgreSQL server needs {' and '.join(missing)} (PostgreSQL's "
                    "server programs): not found on PATH or in /usr/lib/postgresql/*/bin")
    pytest.importorskip("psycopg2", reason="PostgreSQL tests need psycopg2")
    as_user = _user_for_server()
    root = Path(tempfile.mkdtemp(prefix="dnnsweep-pg-"))
    try:
        if as_user:
            entry = pwd.getpwnam(as_user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
            root.chmod(0o755)
        server = PrivateServer(root, free_port(), as_user)
        server.init()
        server.start()
        try:
            yield server
        finally:
            if server.running():
                with contextlib.suppress(Exception):
                    server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
