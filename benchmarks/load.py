"""Throughput: gunicorn (4 workers) on 127.0.0.1 serving the benchmark city, and a bounded load generator.

Python threads with keep-alive `http.client` connections, each logged in as one of the demo roles (or anonymous,
on the public portal and API), request a mix of pages until the time is up. Reported: requests/s, the error count
(any status other than 200, or a failed connection), and p50/p95 latency as the clients saw it.
"""

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Demo@2026"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Tally:
    latencies: list = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Browser:
    """One user's keep-alive connection with its session cookie."""

    def __init__(self, port: int):
        self.port, self.cookie = port, ""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise
        data = response.read().decode("utf-8", "replace")
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, data

    def login(self, username: str) -> None:
        _status, html = self.request("GET", "/login")
        token = CSRF.search(html).group(1)
        body = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD})
        status, _ = self.request("POST", "/login", body)
        if status != 302:
            raise RuntimeError(f"login of {username} answered {status}")


def mixes(flow_id: int | None, power_code: str | None) -> dict[str | None, list[str]]:
    inspector = ["/catalog/powers", "/catalog/powers?q=%E9%A3%9F%E5%93%81", "/risks/", "/risks/analysis",
                 "/risks/?page=50", "/supervision/", "/supervision/alerts", "/review/", "/accountability/findings"]
    if flow_id:
        inspector.append(f"/flows/{flow_id}")
    public = ["/portal/", "/portal/?q=%E5%BB%BA%E8%AE%BE", "/api/v1/powers?q=%E7%8E%AF%E5%A2%83"]
    if power_code:
        public.append(f"/portal/powers/{urllib.parse.quote(power_code)}")
    return {"inspector": inspector, "bench_editor": ["/catalog/powers", "/risks/", "/risks/analysis", "/flows/", "/"],
            "head": ["/catalog/powers", "/risks/", "/"], None: public}


def start_gunicorn(database_url: str, port: int, workers: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "benchmark-load-secret",
           "GOVRISK_CONFIG": "default", "SESSION_COOKIE_SECURE": "0"}
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "--chdir", str(ROOT),
               "--timeout", "120", "--access-logfile", "-", "--access-logformat",
               '%(m)s %(U)s%(q)s %(s)s %(B)s %(M)sms', "wsgi:app"]
    log = log_path.open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/login")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"gunicorn did not come up on port {port} (see {log_path})")


def run(database_url: str, *, seconds: float = 20, threads: int = 8, workers: int = 4, flow_id=None,
        power_code=None, log=print, log_path: Path | None = None) -> dict:
    port = free_port()
    log_path = log_path or Path(f"/tmp/govrisk-bench-gunicorn-{port}.log")
    process = start_gunicorn(database_url, port, workers, log_path)
    tally = Tally()
    users = list(mixes(flow_id, power_code))
    try:
        browsers = []
        for i in range(threads):
            browser, user = Browser(port), users[i % len(users)]
            if user:
                browser.login(user)
            browsers.append((browser, mixes(flow_id, power_code)[user]))
        stop = time.perf_counter() + seconds

        def work(browser: Browser, pages: list[str], offset: int) -> None:
            i = offset
            while time.perf_counter() < stop:
                path = pages[i % len(pages)]
                i += 1
                started = time.perf_counter()
                try:
                    status, _body = browser.request("GET", path)
                except (http.client.HTTPException, OSError) as exc:
                    tally.error(f"{path}: {type(exc).__name__}")
                    continue
                if status == 200:
                    tally.ok(time.perf_counter() - started)
                else:
                    tally.error(f"{path}: {status}")

        started = time.perf_counter()
        workers_ = [threading.Thread(target=work, args=(b, p, n)) for n, (b, p) in enumerate(browsers)]
        for worker in workers_:
            worker.start()
        for worker in workers_:
            worker.join()
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    ok = len(tally.latencies)
    ordered = sorted(tally.latencies) or [0.0]
    result = {"seconds": round(elapsed, 1), "threads": threads, "workers": workers, "requests": ok + sum(
        tally.errors.values()), "ok": ok, "errors": sum(tally.errors.values()), "error_detail": tally.errors,
              "requests_per_s": round(ok / elapsed, 1), "p50_ms": round(statistics.median(ordered) * 1000, 1),
              "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000, 1), "log": str(log_path)}
    log(f"throughput: gunicorn {workers} workers, {threads} client threads, {result['seconds']} s: "
        f"{result['requests_per_s']:,} requests/s, {result['errors']} errors, latency p50 {result['p50_ms']} ms, "
        f"p95 {result['p95_ms']} ms")
    if tally.errors:
        log(f"  errors: {tally.errors}")
    return result
