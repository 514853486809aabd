"""wrk, driven by a generated Lua script: it replays a list of prepared
requests (each with its own Cookie header and body), round robin from a
different start in each thread, and counts every answer other than the
expected status as an error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.servers import HOST


@dataclass
class Request:
    method: str
    path: str
    cookie: str | None = None
    body: str | None = None


@dataclass
class Scenario:
    key: str  # what it measures, shared by Relais and its bare counterpart
    stack: str  # "relais" or "bare"
    concurrency: int
    requests: list[Request]
    expected: int  # any other status counts as an error
    writes: bool = False  # rows it adds are deleted after it

    @property
    def label(self) -> str:
        """What the stack does: the bare counterpart of a page is its select."""
        if self.stack == "bare" and self.key != "entry":
            return f"{self.key} (bare select)"
        return f"{self.key} ({self.stack})"


@dataclass
class Result:
    scenario: Scenario
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    unexpected: int  # answers with another status than the expected one
    socket_errors: int  # connect, read, write errors and timeouts
    example: int  # one of the unexpected statuses, 0 if none

    @property
    def errors(self) -> int:
        return self.unexpected + self.socket_errors

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


LUA = """
local requests = {
%(requests)s
}
local expected = %(expected)d
local threads, counter = {}, 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  prepared = {}
  for i, r in ipairs(requests) do
    local headers = {}
    if r[3] then headers["Cookie"] = r[3] end
    if r[4] then headers["Content-Type"] = "application/x-www-form-urlencoded" end
    prepared[i] = wrk.format(r[1], r[2], headers, r[4])
  end
  index = (id * 7919) %% #prepared
  bad, example = 0, 0
end

function request()
  index = index %% #prepared + 1
  return prepared[index]
end

function response(status, headers, body)
  if status ~= expected then bad, example = bad + 1, status end
end

function done(summary, latency, requests)
  local b, x = 0, 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    if t:get("example") ~= 0 then x = t:get("example") end
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"bad": %%d, "example": %%d, "socket": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), b, x,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua_string(value: str | None) -> str:
    if value is None:
        return "nil"
    if "]==]" in value:
        raise ValueError("unexpected ]==] in a request")
    return f"[==[{value}]==]"


def lua_script(scenario: Scenario) -> str:
    rows = ",\n".join(
        "{" + ", ".join(_lua_string(v) for v in (r.method, r.path, r.cookie, r.body)) + "}"
        for r in scenario.requests
    )
    return LUA % {"requests": rows, "expected": scenario.expected}


def ensure_wrk() -> str:
    """wrk, installed from Debian's packages when missing (as root)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install wrk ...", flush=True)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update"], check=False, **quiet)
            subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is needed: apt-get install wrk")
    return found


def run_wrk(port: int, scenario: Scenario, seconds: float, script_dir: Path) -> Result:
    script = script_dir / f"{scenario.key}-{scenario.stack}-{scenario.concurrency}.lua"
    script.write_text(lua_script(scenario))
    threads = min(2, scenario.concurrency)
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{scenario.concurrency}",
        f"-d{seconds:g}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}",
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    line = next((x for x in output.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{output.stdout}\n{output.stderr}")
    data = json.loads(line[len("RESULT ") :])
    return Result(
        scenario=scenario,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        unexpected=data["bad"],
        socket_errors=data["socket"],
        example=data["example"],
    )
