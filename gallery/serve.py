"""Serve the gallery to many visitors: N Streamlit replicas behind nginx, each visitor kept on one replica.

    python -m gallery serve --replicas 4 --port 8080

Each replica is ``streamlit run Home.py`` on a free local port (127.0.0.1 only), with one thread for torch and BLAS
(``OMP_NUM_THREADS=1`` and friends, and ``GALLERY_TORCH_THREADS=1``, which the app applies to both),
``MALLOC_ARENA_MAX=2`` (glibc keeps fewer memory pools per thread) and the same cookie secret
(``STREAMLIT_SERVER_COOKIE_SECRET``, one random secret per invocation), so cookies one replica signs are valid on the
others. nginx runs in front, in the foreground, from ``gallery/nginx.conf.template`` rendered into a temporary folder
that also holds its pid, temporary files and logs: no root needed, nothing in /etc touched. The template's comments
say how the ``gallery_route`` cookie keeps a visitor's websocket, uploads and media on the replica that holds its
session, and how a dead replica's visitors move to a live one.

Every child runs in its own process group; Ctrl-C or SIGTERM stops each group (SIGTERM, then SIGKILL after a grace
period), so nothing is left behind and the port is free afterwards. A replica that exits while serving is reported and
started again on its port. With ``--replicas 1`` Streamlit itself listens on the port and nginx is not needed.

Usable without Streamlit imports (``Gallery`` is what tests/test_replicas.py drives).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
INSTALL_HINT = "apt-get install nginx"
ONE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "GALLERY_TORCH_THREADS": "1",
}
FAIL_TIMEOUT_S = 5  # a replica that refused a connection is left out this long before nginx tries it again
GRACE_S = 10.0  # after SIGTERM, how long a process group gets before SIGKILL


class ServeError(ValueError):
    """A clear message for the person starting the server (the command line prints it and exits with status 1)."""


class ConfigTemplate(Template):
    delimiter = "@@"  # nginx itself uses $ for its variables


def find_nginx() -> str | None:
    found = shutil.which("nginx")
    return found or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def render_config(
    ports: list[int], listen: int | str, rundir: Path, logdir: Path | None = None, template: Path = TEMPLATE
) -> str:
    """The nginx configuration for replicas on ``ports`` (127.0.0.1), listening on ``listen`` (a port or host:port),
    with its pid and temporary files in ``rundir`` and its logs in ``logdir`` (default: ``rundir``)."""
    if not ports:
        raise ServeError("at least one replica is needed")
    ind = " " * 8
    server = "server 127.0.0.1:{port} max_fails=1 fail_timeout=" + f"{FAIL_TIMEOUT_S}s"
    upstreams = []
    for i, port in enumerate(ports):
        others = [ports[(i + k) % len(ports)] for k in range(1, len(ports))]  # rotated: failovers spread out
        lines = [f"{ind}zone gallery_r{i} 64k;", f"{ind}{server.format(port=port)};"]
        lines += [f"{ind}{server.format(port=p)} backup;" for p in others]
        upstreams.append(f"    upstream gallery_r{i} {{\n" + "\n".join(lines) + "\n    }")
    values = {
        "rundir": str(rundir),
        "logdir": str(logdir or rundir),
        "listen": str(listen),
        "served_map": "\n".join(f'{ind}"~(^|, )127\\.0\\.0\\.1:{port}$" r{i};' for i, port in enumerate(ports)),
        "route_map": "\n".join(f"{ind}r{i} gallery_r{i};" for i in range(len(ports))),
        "new_servers": "\n".join(f"{ind}{server.format(port=p)};" for p in ports),
        "replica_upstreams": "\n".join(upstreams),
    }
    return ConfigTemplate(template.read_text()).substitute(values)


def replica_env(cookie_secret: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """A replica's environment: one thread for torch and BLAS, two malloc arenas, the shared cookie secret."""
    env = dict(os.environ if base is None else base)
    env.update(ONE_THREAD)
    env["MALLOC_ARENA_MAX"] = "2"
    env["STREAMLIT_SERVER_COOKIE_SECRET"] = cookie_secret
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as answer:
            return answer.status == 200
    except OSError:
        return False


def _prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux
        return None


_PRCTL = _prctl()  # looked up here: a child between fork and exec should import nothing


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when the process that started it dies, even by SIGKILL."""
    if _PRCTL is not None:
        _PRCTL(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def stop_group(process: subprocess.Popen, grace: float = GRACE_S, sig: int = signal.SIGTERM) -> None:
    """Stop a child started with ``start_new_session=True`` and everything in its process group."""
    pgid = process.pid  # the child leads its own group; the pid stays reserved until it is waited for
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(pgid, signal.SIGKILL)  # the leader if it lingered, and any of its children still in the group
    except ProcessLookupError:
        pass
    process.wait()


@dataclass
class Replica:
    index: int
    port: int
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def name(self) -> str:
        return f"r{self.index}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Gallery:
    """N replicas (and nginx in front when N > 1); a context manager that stops everything it started.

    ``logs``: a folder for the replicas' and nginx's logs, kept afterwards; by default a temporary folder, removed.
    """

    def __init__(
        self,
        replicas: int,
        port: int = 8080,
        *,
        host: str = "",
        logs: Path | None = None,
        timeout: float = 180.0,
        script: str = "Home.py",
        cwd: Path = ROOT,
        echo=print,
    ):
        if replicas < 1:
            raise ServeError("--replicas must be at least 1")
        self.count, self.port, self.host, self.timeout = replicas, port, host, timeout
        self.script, self.cwd, self.echo = script, cwd, echo
        self.nginx_bin = find_nginx() if replicas > 1 else None
        if replicas > 1 and not self.nginx_bin:
            raise ServeError(
                f"nginx is not installed; install it with `{INSTALL_HINT}` "
                "(or serve a single replica with --replicas 1, which needs no nginx)"
            )
        self.rundir = Path(tempfile.mkdtemp(prefix="gallery-serve-"))  # nginx's config, pid, temporary files
        self.logdir = self.rundir if logs is None else Path(logs)
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.cookie_secret = secrets.token_hex(32)
        self.env = replica_env(self.cookie_secret)
        self.replicas: list[Replica] = []
        self.nginx: subprocess.Popen | None = None
        self.config: Path | None = None

    # --- starting -------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def log_of(self, replica: Replica) -> Path:
        return self.logdir / f"replica-{replica.index}.log"

    def _address(self) -> str:
        """Where the replicas listen: 127.0.0.1 behind nginx; a single replica is what visitors connect to."""
        return "127.0.0.1" if self.count > 1 else (self.host or "0.0.0.0")

    def _launch(self, replica: Replica) -> None:
        address = self._address()
        command = [sys.executable, "-m", "streamlit", "run", self.script, "--server.port", str(replica.port)]
        command += ["--server.address", address, "--server.headless", "true"]
        with open(self.log_of(replica), "a") as log:
            replica.process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole, untouched by the terminal's Ctrl-C
                preexec_fn=_die_with_parent,
            )
        replica.starts += 1

    def _wait_healthy(self, replicas: list[Replica]) -> None:
        deadline = time.monotonic() + self.timeout
        waiting = list(replicas)
        while waiting:
            for r in list(waiting):
                if not r.alive():
                    tail = self.log_of(r).read_text(errors="replace")[-2000:]
                    code = r.process.returncode
                    raise ServeError(f"replica {r.index} (port {r.port}) exited with code {code}:\n{tail}")
                if healthy(r.url):
                    waiting.remove(r)
                    self.echo(f"replica {r.index}: streamlit on {self._address()}:{r.port} (pid {r.pid}) is up")
            if waiting and time.monotonic() > deadline:
                names = ", ".join(f"{r.index} (port {r.port})" for r in waiting)
                raise ServeError(f"replicas {names} did not answer /_stcore/health within {self.timeout:.0f} s")
            if waiting:
                time.sleep(0.3)

    def start(self) -> None:
        """Start the replicas, wait until each is healthy, then start nginx and wait until it answers."""
        if not port_is_free(self.port, self.host):
            raise ServeError(f"port {self.port} is already in use; choose another with --port")
        if self.count == 1:
            self.replicas = [Replica(0, self.port)]
        else:
            ports: list[int] = []
            while len(ports) < self.count:  # distinct, and not the public port
                p = free_port()
                if p != self.port and p not in ports:
                    ports.append(p)
            self.replicas = [Replica(i, p) for i, p in enumerate(ports)]
        self.echo(f"starting {self.count} streamlit replica{'s' * (self.count > 1)} (logs in {self.logdir}) ...")
        for r in self.replicas:
            self._launch(r)
        self._wait_healthy(self.replicas)
        if self.count > 1:
            self._start_nginx()
        self.echo(f"the gallery is served at {self.url} (open it in a browser); Ctrl-C stops it")

    def _start_nginx(self) -> None:
        listen = f"{self.host}:{self.port}" if self.host else str(self.port)
        self.config = self.rundir / "nginx.conf"
        self.config.write_text(render_config([r.port for r in self.replicas], listen, self.rundir, self.logdir))
        # Started as root, nginx runs its worker as nobody: it creates its temporary folders in rundir owned by
        # that user, which must be able to pass through rundir (the logs are opened by the master).
        self.rundir.chmod(0o711)
        command = [self.nginx_bin, "-p", f"{self.rundir}/", "-e", str(self.logdir / "error.log")]
        command += ["-c", str(self.config), "-g", "daemon off;"]
        with open(self.logdir / "nginx.out", "a") as out:
            self.nginx = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + 30
        local = self.host if self.host not in ("", "0.0.0.0", "::") else "127.0.0.1"
        while not healthy(f"http://{local}:{self.port}"):
            if self.nginx.poll() is not None or time.monotonic() > deadline:
                errors = "\n".join(
                    f.read_text(errors="replace")[-2000:]
                    for f in (self.logdir / "nginx.out", self.logdir / "error.log")
                    if f.exists()
                )
                raise ServeError(f"nginx did not start on port {self.port}:\n{errors}")
            time.sleep(0.2)
        ports = ", ".join(f"r{r.index} on 127.0.0.1:{r.port}" for r in self.replicas)
        self.echo(f"nginx (pid {self.nginx.pid}) on port {self.port} spreads visitors over {ports}")

    def restart(self, index: int) -> Replica:
        """Stop replica ``index`` if it is still running, start it again on its port, wait until it is healthy."""
        replica = self.replicas[index]
        if replica.process is not None:
            stop_group(replica.process)
        self._launch(replica)
        self._wait_healthy([replica])
        return replica

    # --- running and stopping ------------------------------------------------------------------------------------

    def supervise(self, poll: float = 1.0) -> None:
        """Run until interrupted: a replica that exits is reported and started again; nginx exiting is an error."""
        while True:
            if self.nginx is not None and self.nginx.poll() is not None:
                tail = (self.logdir / "error.log").read_text(errors="replace")[-2000:]
                raise ServeError(f"nginx exited with code {self.nginx.returncode}:\n{tail}")
            for r in self.replicas:
                if not r.alive():
                    self.echo(f"replica {r.index} (port {r.port}) exited with code {r.process.returncode}; restarting")
                    try:
                        self.restart(r.index)
                    except ServeError as err:
                        self.echo(f"replica {r.index} could not be restarted: {err}")
            time.sleep(poll)

    def stop(self) -> None:
        """Stop nginx first (no new requests), then every replica; each process group SIGTERM, then SIGKILL.

        A second Ctrl-C or SIGTERM while stopping is ignored, so the stopping is never cut short."""
        main = threading.current_thread() is threading.main_thread()
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
        try:
            if self.nginx is not None:
                stop_group(self.nginx)
            for r in self.replicas:
                if r.process is not None:
                    stop_group(r.process)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        shutil.rmtree(self.rundir, ignore_errors=True)  # with the logs, unless they were given their own folder

    def __enter__(self) -> Gallery:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM stops the server the way Ctrl-C does


def serve(replicas: int, port: int, host: str = "", logs: Path | None = None, timeout: float = 180.0) -> int:
    """The command: start everything, supervise until Ctrl-C or SIGTERM, stop everything. Returns the exit status."""
    # SIGINT too: a shell starting the command in the background would otherwise have it ignored
    previous = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, signal.SIGINT)}
    echo = lambda message: print(message, flush=True)
    try:
        gallery = Gallery(replicas, port, host=host, logs=logs, timeout=timeout, echo=echo)
        try:
            with gallery:
                gallery.supervise()
        except KeyboardInterrupt:
            echo("stopped: every process it started has exited")
            return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def cmd_serve(args: argparse.Namespace) -> None:
    """``python -m gallery serve``: runs in the foreground; exits with serve's status (errors: ServeError)."""
    raise SystemExit(serve(args.replicas, args.port, args.host, args.logs, args.timeout))


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the app to many visitors: N streamlit replicas behind nginx with sticky sessions",
        description=__doc__.split("\n\n", 2)[0] + " See README.md, 'Serving many visitors'.",
    )
    p.add_argument("--replicas", type=int, default=2, help="Streamlit processes (default 2; 1 needs no nginx)")
    p.add_argument("--port", type=int, default=8080, help="the port visitors connect to (default 8080)")
    p.add_argument("--host", default="", help="the address to listen on (default: every interface)")
    p.add_argument("--logs", type=Path, default=None, help="keep the replicas' and nginx's logs in this folder")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds each replica may take to start")
    p.set_defaults(run=cmd_serve)


def parse_access_log(path: Path) -> list[dict[str, str]]:
    """The fields of nginx's access log (format ``gallery`` in the template): request, status, route, served."""
    pattern = re.compile(
        r'"(?P<request>[^"]*)" (?P<status>\d+) \d+ route="(?P<route>[^"]*)" served="(?P<served>[^"]*)" '
        r'upstream="(?P<upstream>[^"]*)" set_cookie="(?P<set_cookie>[^"]*)"'
    )
    if not path.exists():
        return []
    return [m.groupdict() for m in map(pattern.search, path.read_text(errors="replace").splitlines()) if m]
