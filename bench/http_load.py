"""A bounded asyncio HTTP load for the benchmarks: servers started with ``uvicorn`` in their
own process on loopback, workers that each post as soon as their last answer came back, and the
latencies, errors and server CPU they leave (used by ``survey_submit_bench.py``).

Why our own and not locust: a closed loop of N ``httpx`` clients over one keep-alive connection
each is 200 lines, needs no extra dependency, and reports exactly what the benchmark checks
(every 2xx counted, so the store's count can be compared with it).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process so far (Linux /proc), else None."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(factory: str, env: dict[str, str], log: Path, app_dir: Path) -> Server:
    """``uvicorn --factory`` on a free loopback port; returns once ``/healthz`` answers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--app-dir",
        str(app_dir),
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    handle = log.open("wb")
    process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    server = Server(process, f"http://{HOST}:{port}", log)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{factory} exited with {process.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{factory} did not answer /healthz within 60 s: {log.read_text()}")


# --- the load -------------------------------------------------------------------------------

Submit = Callable[[Any, random.Random], Awaitable[Any]]


@dataclass
class Load:
    """What the client saw: latencies of timed 2xx submits, errors by kind, 2xx in all."""

    latencies_s: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    ok_total: int = 0
    timed_ok: int = 0
    timed_seconds: float = 0.0


async def run_load(
    base_url: str,
    submit: Submit,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    first_worker: int = 0,
    seed: int = 0,
) -> Load:
    """``concurrency`` workers post until the deadline; only the timed window is measured."""
    import httpx

    if not base_url.startswith(f"http://{HOST}:"):
        raise ValueError(f"loopback only: {base_url}")
    load = Load()
    loop = asyncio.get_running_loop()
    timed_from = loop.time() + warmup
    until = timed_from + duration

    async def worker(number: int) -> None:
        # one client (one keep-alive connection) per worker: a shared 50-connection pool spends
        # more CPU finding a free connection than the ceiling server spends answering
        rng = random.Random(seed + number)
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            while (now := loop.time()) < until:
                try:
                    response = await submit(client, rng)
                except httpx.HTTPError as error:
                    load.errors[type(error).__name__] += 1
                    if len(load.error_samples) < 5:
                        load.error_samples.append(f"{type(error).__name__}: {error}")
                    continue
                done = loop.time()
                if 200 <= response.status_code < 300:
                    load.ok_total += 1
                    if now >= timed_from:
                        load.timed_ok += 1
                        load.latencies_s.append(done - now)
                else:
                    load.errors[f"http_{response.status_code}"] += 1
                    if len(load.error_samples) < 5:
                        load.error_samples.append(f"{response.status_code}: {response.text[:300]}")

    await asyncio.gather(*(worker(first_worker + n) for n in range(concurrency)))
    load.timed_seconds = loop.time() - timed_from
    return load


def _client_process(
    base_url: str,
    make_submit: Callable[[str | None], Submit],
    path: str | None,
    concurrency: int,
    duration: float,
    warmup: float,
    start_at: float,
    first_worker: int,
    seed: int,
) -> Load:
    time.sleep(max(0.0, start_at - time.time()))  # every client process starts together
    return asyncio.run(
        run_load(
            base_url,
            make_submit(path),
            concurrency=concurrency,
            duration=duration,
            warmup=warmup,
            first_worker=first_worker,
            seed=seed,
        )
    )


def drive(
    base_url: str,
    make_submit: Callable[[str | None], Submit],
    path: str | None,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    processes: int,
    seed: int = 0,
) -> Load:
    """The load from ``processes`` client processes (the workers split among them), merged: one
    Python client process saturates a core long before a small server does."""
    if processes <= 1:
        return _client_process(
            base_url, make_submit, path, concurrency, duration, warmup, 0.0, 0, seed
        )
    shares = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    starts = [sum(shares[:i]) for i in range(processes)]
    start_at = time.time() + 1.0
    jobs = [
        (base_url, make_submit, path, n, duration, warmup, start_at, first, seed)
        for n, first in zip(shares, starts, strict=True)
        if n
    ]
    with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
        loads = pool.starmap(_client_process, jobs)
    merged = Load()
    for load in loads:
        merged.latencies_s += load.latencies_s
        merged.errors += load.errors
        merged.error_samples += load.error_samples[: 5 - len(merged.error_samples)]
        merged.ok_total += load.ok_total
        merged.timed_ok += load.timed_ok
    merged.timed_seconds = max(load.timed_seconds for load in loads)
    return merged


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (no interpolation: a real observed latency)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(load: Load, server: Server, cpu_before: float | None) -> dict[str, Any]:
    cpu_after = server.cpu_seconds()
    ms = [x * 1000 for x in load.latencies_s]
    rate = load.timed_ok / load.timed_seconds if load.timed_seconds else 0.0
    server_cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return {
        "submits_per_s": round(rate, 1),
        "timed_submits": load.timed_ok,
        "timed_seconds": round(load.timed_seconds, 2),
        "submits_2xx_total": load.ok_total,
        "p50_ms": _round(percentile(ms, 0.50)),
        "p95_ms": _round(percentile(ms, 0.95)),
        "p99_ms": _round(percentile(ms, 0.99)),
        "max_ms": _round(max(ms) if ms else None),
        "errors": sum(load.errors.values()),
        "errors_by_kind": dict(load.errors),
        "error_samples": load.error_samples,
        "server_cpu_seconds": _round(server_cpu),
        "server_cpu_ms_per_submit": _round(
            1000 * server_cpu / load.ok_total if server_cpu is not None and load.ok_total else None
        ),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
