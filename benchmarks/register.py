"""Register pages under load: the hub against nginx serving the same HTML as static files.

With 1,000 invented datasets in a throwaway SQLite database, this starts the hub under
gunicorn (2 workers, AIDAHUB_DEBUG=0) and nginx on loopback ports, saves the hub's list page
and one landing page as static files for nginx, and runs ``wrk -t1 -c8 -d10s --latency``
against all four URLs. It prints requests/s and p99 latency, the ratios hub/nginx, and
whether the target (at least 300 requests/s for both hub pages) was met.

It talks only to 127.0.0.1 and stops every process it started. Run it with ``make bench``.
It is a measurement to read, not a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import getpass
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
TARGET_RPS = 300.0
NGINX_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


@dataclass
class Result:
    name: str
    url: str
    rps: float
    p99_ms: float
    errors: int
    bytes: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def find_tools() -> tuple[dict[str, str], list[str]]:
    """Paths of wrk, nginx and gunicorn, and a line for each one that is missing."""
    tools: dict[str, str] = {}
    missing: list[str] = []
    wrk = shutil.which("wrk")
    nginx = shutil.which("nginx") or next((p for p in NGINX_PATHS if os.access(p, os.X_OK)), None)
    venv_gunicorn = Path(sys.executable).with_name("gunicorn")
    gunicorn = str(venv_gunicorn) if venv_gunicorn.exists() else shutil.which("gunicorn")
    if wrk:
        tools["wrk"] = wrk
    else:
        missing.append("wrk is not installed (Debian/Ubuntu: apt-get install wrk)")
    if nginx:
        tools["nginx"] = nginx
    else:
        missing.append("nginx is not installed (Debian/Ubuntu: apt-get install nginx)")
    if gunicorn:
        tools["gunicorn"] = gunicorn
    else:
        missing.append("gunicorn is not installed in this environment (make install)")
    return tools, missing


def fetch(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.is_file() else ""


def wait_until_serving(
    port: int, path: str, process: subprocess.Popen, what: str, log: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}:\n{_tail(log)}")
        try:
            status, _ = fetch(port, path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer on {HOST}:{port} within 60 s:\n{_tail(log)}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM: gunicorn's master stops its workers, nginx does a fast shutdown."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def manage(env: dict[str, str], cwd: Path, *args: str) -> str:
    command = [sys.executable, "-m", "aidahub.cli", "manage", *args]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"aidahub manage {args[0]} failed:\n{done.stderr[-3000:]}")
    return done.stdout


NGINX_CONF = """daemon off;
master_process on;
worker_processes 2;
{user}pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    default_type text/html;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/nginx-temp/body;
    proxy_temp_path {tmp}/nginx-temp/proxy;
    fastcgi_temp_path {tmp}/nginx-temp/fastcgi;
    uwsgi_temp_path {tmp}/nginx-temp/uwsgi;
    scgi_temp_path {tmp}/nginx-temp/scgi;
    server {{
        listen {host}:{port};
        root {root};
        location / {{ try_files $uri $uri/index.html =404; }}
    }}
}}
"""


def write_nginx_conf(tmp: Path, port: int) -> Path:
    (tmp / "nginx-temp").mkdir()
    # A master started by root would switch its workers to "nobody", who cannot read the
    # private temporary folder; keep them as the current user.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(user=user, tmp=tmp, host=HOST, port=port, root=tmp / "nginx-root"),
        encoding="utf-8",
    )
    return conf


_LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_wrk(output: str) -> tuple[float, float, int]:
    """Requests/s, p99 latency in ms, and the count of errors and non-2xx answers."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
    if not rps or not p99:
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), "
        r"timeout (\d+)",
        output,
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return float(rps.group(1)), float(p99.group(1)) * _LATENCY_UNITS[p99.group(2)], errors


def run_wrk(wrk: str, url: str, duration: str) -> str:
    command = [wrk, "-t1", "-c8", f"-d{duration}", "--latency", url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}:\n{done.stderr}")
    return done.stdout


def print_table(results: list[Result], datasets: int, seconds: float) -> bool:
    print()
    print(
        f"Register under wrk -t1 -c8 -d10s, {datasets:,} datasets, {os.cpu_count()} CPUs "
        f"(database filled in {seconds:.0f} s)"
    )
    print()
    print(f"{'page':<28} {'requests/s':>12} {'p99 latency':>12} {'errors':>7} {'bytes':>8}")
    for r in results:
        print(f"{r.name:<28} {r.rps:>12,.0f} {r.p99_ms:>9.1f} ms {r.errors:>7} {r.bytes:>8,}")
    by_name = {r.name: r for r in results}
    print()
    met = True
    for page in ("list", "landing"):
        hub, nginx = by_name[f"hub {page} page"], by_name[f"nginx {page} page"]
        print(
            f"{page:<8} hub/nginx: {hub.rps / nginx.rps:.3f} of the requests/s, "
            f"{hub.p99_ms / max(nginx.p99_ms, 0.001):.1f}x the p99 latency"
        )
        met = met and hub.rps >= TARGET_RPS and hub.errors == 0
    print()
    verdict = "met" if met else "NOT met"
    print(f"Target (at least {TARGET_RPS:.0f} requests/s for both hub pages, no errors): {verdict}")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--duration", default="10s", help="wrk duration per URL")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    args = parser.parse_args(argv)

    tools, missing = find_tools()
    if missing:
        print("benchmarks/register.py cannot run:", file=sys.stderr)
        for line in missing:
            print(f"  - {line}", file=sys.stderr)
        return 2

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aidahub-bench-")))
        hub_port, nginx_port = free_port(), free_port()
        env = {
            **os.environ,
            "AIDAHUB_DATA_DIR": str(tmp),
            "AIDAHUB_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
            "AIDAHUB_DEBUG": "0",
            "AIDAHUB_BASE_URL": f"http://{HOST}:{hub_port}",
            "AIDAHUB_ALLOWED_HOSTS": HOST,
            "DJANGO_SETTINGS_MODULE": "aidahub.web.config.settings",
        }
        print(f"Preparing {args.datasets:,} datasets in a temporary database ...", flush=True)
        started = time.monotonic()
        manage(env, tmp, "migrate", "--noinput", "-v0")
        manage(env, tmp, "collectstatic", "--noinput", "-v0")
        landing_doi = (
            manage(
                env,
                tmp,
                "shell",
                "-c",
                "from aidahub.web.register.demo import make_bulk, bulk_doi; "
                f"make_bulk({args.datasets}, seed=1); print(bulk_doi({args.datasets // 2}, 1))",
            )
            .strip()
            .splitlines()[-1]
        )
        fill_seconds = time.monotonic() - started

        processes: list[subprocess.Popen] = []
        try:
            hub = subprocess.Popen(
                [
                    tools["gunicorn"],
                    "aidahub.web.config.wsgi",
                    "-w",
                    str(args.workers),
                    "-b",
                    f"{HOST}:{hub_port}",
                    "--log-level",
                    "warning",
                    "--error-logfile",
                    str(tmp / "gunicorn.log"),
                ],
                env=env,
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            processes.append(hub)
            wait_until_serving(hub_port, "/datasets/", hub, "gunicorn", tmp / "gunicorn.log")

            pages = {"list": "/datasets/", "landing": f"/{landing_doi}"}
            sizes = {}
            for page, path in pages.items():
                status, body = fetch(hub_port, path)
                if status != 200:
                    raise RuntimeError(f"the hub answered {status} for {path}")
                target = tmp / "nginx-root" / path.strip("/") / "index.html"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                sizes[page] = len(body)

            conf = write_nginx_conf(tmp, nginx_port)
            nginx = subprocess.Popen(
                [
                    tools["nginx"],
                    "-p",
                    str(tmp),
                    "-c",
                    str(conf),
                    "-e",
                    str(tmp / "nginx-error.log"),
                ],
                cwd=tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            processes.append(nginx)
            wait_until_serving(nginx_port, pages["list"], nginx, "nginx", tmp / "nginx-error.log")

            results = []
            for server, port in (("hub", hub_port), ("nginx", nginx_port)):
                for page, path in pages.items():
                    url = f"http://{HOST}:{port}{path}"
                    run_wrk(tools["wrk"], url, "2s")  # warm-up: caches and connections
                    print(f"wrk {url}", flush=True)
                    rps, p99, errors = parse_wrk(run_wrk(tools["wrk"], url, args.duration))
                    results.append(
                        Result(f"{server} {page} page", url, rps, p99, errors, sizes[page])
                    )
        finally:
            for process in reversed(processes):
                stop(process)
        print_table(results, args.datasets, fill_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
