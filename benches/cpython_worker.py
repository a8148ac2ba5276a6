"""The CPython baseline: a worker speaking JSON lines on stdin/stdout.

Request:  {"id": 1, "script": "name.py", "source": "...", "context_json": "{...}"}  (source only the first time;
          "context": {...} also works)
Reply:    {"id": 1, "ok": true, "result": {...}, "stdout": "...", "us": T} or {"id": 1, "ok": false, "error": "..."}
          T: microseconds in-process for reading the context, the call and writing the result

It keeps one namespace per script, like the engine's per-script instances, and converts with
the json module. It has no sandbox and no deadline: a runaway script is killed from outside.
Like the engine's worker, it polls stdin for 300 µs after each reply before it sleeps, so both
sides of the comparison get the same inter-process wake-up treatment.
"""
import contextlib
import io
import json
import os
import select
import sys
import time

SPIN = 300e-6


def lines(fd):
    buf = b""
    while True:
        while b"\n" not in buf:
            start = time.perf_counter()
            while not select.select([fd], [], [], 0)[0]:
                if time.perf_counter() - start > SPIN:
                    select.select([fd], [], [])
                    break
                os.sched_yield()
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        yield line

modules = {}


# Bundled macros import the bundled utilities (`import html_utils`), as in a project. Appended,
# so the standard library is always found first.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "default-scripts"))
sys.dont_write_bytecode = True


def main():
    out = sys.stdout
    for line in lines(sys.stdin.fileno()):
        req = json.loads(line)
        name = req["script"]
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                if "source" in req:
                    ns = {"__name__": name[:-3]}
                    exec(compile(req["source"], name, "exec"), ns)
                    modules[name] = ns
                func = modules[name][req.get("entry", "render")]
                # In-process time: reading the context from JSON text, the call, and writing its
                # result as JSON: what the guests do inside the worker.
                started = time.perf_counter()
                context = json.loads(req["context_json"]) if "context_json" in req else req["context"]
                result = func(context)
                json.dumps(result)
                elapsed = time.perf_counter() - started
            reply = {
                "id": req["id"],
                "ok": True,
                "result": result,
                "stdout": buf.getvalue(),
                "us": elapsed * 1e6,
            }
        except BaseException as e:  # noqa: BLE001 - the baseline reports everything
            reply = {"id": req["id"], "ok": False, "error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
