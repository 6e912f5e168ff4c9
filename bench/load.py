"""Load from separate processes on loopback: wrk for GETs, bench.post_client for POSTs.

Each measurement reads the server's CPU (and PostgreSQL's, when given) right before the load
starts and once the workers are idle again after it, so CPU per request covers exactly the
measured requests (plus those a client left queued when it stopped, which the workers still serve).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.server import REPO, TICKS, Gunicorn, PostgresBackends, cpu_delta, settle

WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, '
    .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
    .. '"latency_us": {"p50": %d, "p95": %d, "p99": %d, "mean": %.1f, "max": %d}}\\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
"""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench does it when it can)")
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / TICKS, (idle + iowait) / TICKS


def _measured(server: Gunicorn, database: PostgresBackends | None, load) -> dict:
    """Run `load(mark)`; it calls mark() right before its measured requests start."""
    readings: dict = {}

    def mark() -> None:
        readings["db"] = database.cpu() if database else None
        readings["server"] = server.cpu()
        readings["machine"] = machine_cpu()

    client_before = _children_cpu()
    result = load(mark)
    result["load_client_cpu_s"] = _children_cpu() - client_before
    after = settle(server)
    spent, vanished = cpu_delta(readings["server"], after)
    requests = result["requests"] or 1
    result["server_cpu_s"] = spent
    result["vanished_workers"] = vanished
    result["cpu_ms_per_request"] = 1000 * spent / requests
    db_spent = 0.0
    if database:
        db_spent, _ = cpu_delta(readings["db"], database.cpu())
        result["db_cpu_s"] = db_spent
        result["db_cpu_ms_per_request"] = 1000 * db_spent / requests
    busy, idle = (now - then for now, then in zip(machine_cpu(), readings["machine"], strict=True))
    # CPU that processes outside the benchmark took meanwhile: other work on the machine skews figures.
    other = max(busy - spent - db_spent - result["load_client_cpu_s"], 0.0)
    result["machine_busy_s"] = busy
    result["other_cpu_share"] = other / (busy + idle) if busy + idle else 0.0
    return result


def run_wrk(server: Gunicorn, path: str, concurrency: int, duration: float,
            database: PostgresBackends | None = None, headers: dict[str, str] | None = None) -> dict:
    threads = min(2, concurrency)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    command = [wrk_path(), "-t", str(threads), "-c", str(concurrency), "-d", f"{duration:g}s", "--latency",
               "--timeout", "30s", "-s", script.name]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(server.url(path))

    def load(mark):
        mark()
        completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
        for line in completed.stdout.splitlines():
            if line.startswith("WRKJSON "):
                data = json.loads(line[len("WRKJSON "):])
                break
        else:
            raise RuntimeError(f"wrk printed no summary:\n{completed.stdout}\n{completed.stderr}")
        seconds = data["duration_us"] / 1e6
        errors = data["errors"]
        socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
        return {
            "tool": "wrk", "requests": data["requests"], "duration_s": seconds,
            "rps": data["requests"] / seconds if seconds else 0.0,
            "latency_ms": {key: value / 1000 for key, value in data["latency_us"].items()},
            "errors": data["errors"]["status"] + socket_errors, "wrk_errors": errors,
            "statuses": {"non-2xx/3xx": errors["status"]} if errors["status"] else {"2xx/3xx": data["requests"]},
            "bytes": data["bytes"],
        }

    try:
        return _measured(server, database, load)
    finally:
        Path(script.name).unlink(missing_ok=True)


def run_posts(server: Gunicorn, kind: str, concurrency: int, total: int, targets: list[dict], seed: int,
              offset: int, database: PostgresBackends | None = None, warmup: int = 0) -> dict:
    settings = {"host": server.host, "port": server.port, "kind": kind, "concurrency": concurrency,
                "total": total, "targets": targets, "seed": seed, "offset": offset, "warmup": warmup}

    def load(mark):
        process = subprocess.Popen([sys.executable, "-m", "bench.post_client"], cwd=REPO, text=True,
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            process.stdin.write(json.dumps(settings) + "\n")
            process.stdin.flush()
            ready = process.stdout.readline().strip()
            if ready != "READY":
                raise RuntimeError(f"post client did not get ready (said {ready!r}); see {server.log_path}")
            mark()  # after the client's preparation and warm-up
            process.stdin.write("GO\n")
            process.stdin.flush()
            output, _ = process.communicate(timeout=600)
        except BaseException:
            process.kill()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"post client failed ({process.returncode})")
        data = json.loads(output.strip().splitlines()[-1])
        errors = sum(count for code, count in data["statuses"].items() if not _acceptable(int(code)))
        errors += sum(data["exceptions"].values())
        return {"tool": "post_client", **data, "errors": errors}

    return _measured(server, database, load)


def _acceptable(status: int) -> bool:
    """2xx and 3xx answers, and 409 (the slot is full): what a booking POST may rightly say."""
    return 200 <= status < 400 or status == 409
