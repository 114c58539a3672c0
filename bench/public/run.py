"""Public pages through nginx's micro-cache: N polling viewers, what reaches the app.

    .venv/bin/python -m bench.public.run [--viewers 10,100,1000] [--direct 100] [--duration 20] [--interval 2] [--repeat 1]

Starts our server (`bench.live.serve` = `contest serve`, SQLite, a generated competition from
bench/live/seed.py) and nginx with the configuration printed in docs/deploy.md (the ```nginx block
after the "bench/public reads the block below" marker; only the listen port, the upstream address
and the cache directory are replaced). Every viewer holds one keep-alive connection and polls one
of the public URLs (the results page, a search, the board page, the board snapshot) every
--interval seconds, conditionally (If-None-Match with the last ETag), as a browser does.

For each N: requests the viewers made, their statuses (200 / 304) and nginx's cache statuses, latency,
and the requests that reached the app (nginx's log: a request with an upstream status), per URL
per second. The baseline of the same run: --direct viewers polling the app without nginx (then every
request reaches the app). The target (issue 16, point 3): at most a few app requests per second
per URL, whatever N.

Needs /usr/sbin/nginx (Debian's `nginx` package); the machine's CPU model and load go in the results.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench.live.load import raise_nofile
from bench.live.run import PY, REPO, Sampler, Server, cpu_model, free_port, seed

NGINX = os.environ.get("CONTEST_NGINX", "/usr/sbin/nginx")
DOC = REPO / "docs" / "deploy.md"
MARKER = "bench/public reads the block below"
LOG_FORMAT = "log_format bench '$msec \"$request_uri\" $status $upstream_cache_status $upstream_status';"


def nginx_config_from_doc(app_port: int, port: int, work: Path) -> str:
    """The doc's nginx block, with this run's ports and directories, inside a runnable nginx.conf."""
    text = DOC.read_text(encoding="utf-8")
    after = text[text.index(MARKER) :]
    block = re.search(r"```nginx\n(.*?)```", after, re.S)
    assert block is not None, "no ```nginx block after the marker in docs/deploy.md"
    conf = block.group(1)
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{port};",
        "127.0.0.1:8000": f"127.0.0.1:{app_port}",
        "/var/cache/nginx/contest": str(work / "cache"),
    }
    for old, new in replacements.items():
        assert old in conf, f"docs/deploy.md's nginx block no longer has {old!r}"
        conf = conf.replace(old, new)
    temp = work / "temp"
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers run as nobody
    return f"""{user}daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    {LOG_FORMAT}
    access_log {work}/access.log bench;
    client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy; fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;
{conf}
}}
"""


class Nginx:
    def __init__(self, app_port: int, work: Path) -> None:
        self.port = free_port()
        self.work = work / "nginx"
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.conf = self.work / "nginx.conf"
        self.conf.write_text(nginx_config_from_doc(app_port, self.port, self.work))
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        check = subprocess.run([NGINX, "-t", "-p", str(self.work), "-c", str(self.conf)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
        self.proc = subprocess.Popen([NGINX, "-p", str(self.work), "-c", str(self.conf)], stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def log_lines(self) -> list[str]:
        path = self.work / "access.log"
        return path.read_text().splitlines() if path.exists() else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def wait_port(port: int, timeout: float = 10.0) -> None:
    import socket

    until = time.monotonic() + timeout
    while time.monotonic() < until:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


async def viewer(port: int, url: str, interval: float, until: float, out: list, start_delay: float) -> None:
    """One phone: a keep-alive connection, a conditional GET every `interval` seconds."""
    await asyncio.sleep(start_delay)
    etag = ""
    reader = writer = None
    while time.monotonic() < until:
        began = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            conditional = f"If-None-Match: {etag}\r\n" if etag else ""
            writer.write(f"GET {url} HTTP/1.1\r\nHost: contest.test\r\nAccept-Language: zh-CN\r\n{conditional}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            length = int(headers.get("content-length", "0"))
            if length:
                await reader.readexactly(length)
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
            etag = headers.get("etag", etag)
            out.append((url, status, headers.get("x-cache-status", "-"), time.monotonic() - began))
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            out.append((url, 0, type(exc).__name__, time.monotonic() - began))
            if writer is not None:
                writer.close()
            reader = writer = None
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))
    if writer is not None:
        writer.close()


async def drive(port: int, urls: list[str], viewers: int, interval: float, duration: float) -> list:
    out: list = []
    until = time.monotonic() + duration
    rng = random.Random(viewers)
    await asyncio.gather(*(viewer(port, urls[i % len(urls)], interval, until, out, rng.uniform(0, interval)) for i in range(viewers)))
    return out


def app_requests(server_log: Path) -> Counter:
    """Public requests the app answered so far, per URL (its access log: one line per request,
    nginx's background revalidations included, which nginx's own access log leaves out)."""
    found: Counter = Counter()
    if not server_log.exists():
        return found
    pattern = re.compile(r'"GET (/(?:public/competitions|board)/\S*)" (\d+)')
    with server_log.open("rb") as f:
        for line in f:
            match = pattern.search(line.decode("utf-8", "replace"))
            if match:
                found[match.group(1)] += 1
    return found


def phase(name: str, port: int, urls: list[str], n: int, args: argparse.Namespace, server: Server, nginx: Nginx | None) -> dict:
    server_log = Path(server.log.name)
    server.log.flush()
    before_app = app_requests(server_log)
    before_nginx = len(nginx.log_lines()) if nginx else 0
    sampler = Sampler(server)
    sampler.start()
    t0 = time.monotonic()
    out = asyncio.run(drive(port, urls, n, args.interval, args.duration))
    elapsed = time.monotonic() - t0
    stats = sampler.stop()
    time.sleep(0.5)  # the app's access lines are written after the response
    upstream = app_requests(server_log) - before_app
    app_total = sum(upstream.values())
    cache: Counter = Counter()
    if nginx:
        for line in nginx.log_lines()[before_nginx:]:
            cache[line.split()[3]] += 1
    latencies = sorted(o[3] * 1000 for o in out if o[1])
    statuses = Counter(o[1] for o in out)

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else None

    return {
        "name": name,
        "viewers": n,
        "seconds": round(elapsed, 1),
        "requests": len(out),
        "requests_per_s": round(len(out) / elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "cache_statuses": dict(cache.most_common()),
        "latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
        "app_requests": app_total,
        "app_requests_per_s": round(app_total / elapsed, 2),
        "app_requests_per_url_per_s": {u: round(c / elapsed, 2) for u, c in sorted(upstream.items())},
        "app_max_per_url_per_s": round(max(upstream.values()) / elapsed, 2) if upstream else 0.0,
        **stats,
    }


def median_of(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 2) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", default="10,100,1000", help="viewer counts through nginx, comma-separated")
    parser.add_argument("--direct", type=int, default=100, help="viewers polling the app without nginx (the baseline)")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between one viewer's polls")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every phase; the summary shows medians")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench-public")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    if not Path(NGINX).exists():
        raise SystemExit(f"{NGINX} not found: apt-get install nginx (or set CONTEST_NGINX)")
    raise_nofile()
    args.work = args.work.resolve()  # nginx reads its paths relative to its prefix: absolute ones only
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    seed_args = argparse.Namespace(items=args.items, entries=20, judges_per_item=2, criteria=5, show_provisional=False)
    db_path, plan_path, plan = seed(args.work, "public", seed_args)
    c = plan["competition_id"]
    urls = [f"/public/competitions/{c}", f"/public/competitions/{c}?q=1", f"/board/{c}", f"/board/{c}/snapshot"]
    server = Server("ours", free_port(), args.work, db_path, plan_path, compression=False)
    server.start()
    nginx = Nginx(server.port, args.work)
    try:
        nginx.start()
    except BaseException:  # the server must not outlive a failed start of nginx
        server.stop()
        raise
    report: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.public.run " + " ".join(os.sys.argv[1:]),
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "nginx": subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip(),
        },
        "load1_at_start": round(os.getloadavg()[0], 2),
        "urls": urls,
        "interval_s": args.interval,
        "runs": defaultdict(list),
    }
    try:
        for _ in range(args.repeat):
            if args.direct:
                report["runs"][f"direct {args.direct}"].append(phase("direct", server.port, urls, args.direct, args, server, None))
            for n in [int(v) for v in args.viewers.split(",") if v]:
                report["runs"][f"nginx {n}"].append(phase("nginx", nginx.port, urls, n, args, server, nginx))
    finally:
        nginx.stop()
        server.stop()
    report["runs"] = dict(report["runs"])
    out = args.work / f"results{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(summary(report))
    print(f"\nraw results: {out}")


def summary(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"{report['date']} · {m['cpu']} · {m['cores']} cores · Python {m['python']} · {m['nginx']}"
        f" · load at start {report['load1_at_start']}",
        f"command: `{report['command']}`; every viewer polls one of {len(report['urls'])} URLs"
        f" every {report['interval_s']} s (If-None-Match)",
        "",
        "| viewers | requests/s (viewers) | 200 / 304 / errors | nginx cache | latency p50 / p99 (ms)"
        " | app requests/s (all URLs) | app requests/s, busiest URL | server CPU | load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in report["runs"].items():
        first = runs[0]
        statuses: Counter = Counter()
        cache: Counter = Counter()
        for r in runs:
            statuses.update(r["statuses"])
            cache.update(r["cache_statuses"])
        errors = sum(v for k, v in statuses.items() if k not in ("200", "304"))
        p50 = round(statistics.median(r["latency_ms"]["p50"] or 0 for r in runs), 1)
        p99 = round(statistics.median(r["latency_ms"]["p99"] or 0 for r in runs), 1)
        cache_text = ", ".join(f"{k} {v}" for k, v in cache.most_common()) if first["name"] == "nginx" else "(no proxy)"
        lines.append(
            f"| {name} | {median_of(runs, 'requests_per_s')} | {statuses.get('200', 0)} / {statuses.get('304', 0)} / {errors}"
            f" | {cache_text} | "
            f"{p50} / {p99} | {median_of(runs, 'app_requests_per_s')} | {median_of(runs, 'app_max_per_url_per_s')} | "
            f"{median_of(runs, 'cpu_mean_pct')}% | {median_of(runs, 'load1_mean')} |"
        )
    lines.append(f"\n({len(next(iter(report['runs'].values())))} run(s) per row; figures are medians of the runs; counts are summed)")
    return "\n".join(lines)


if __name__ == "__main__":
    _ = PY
    main()
