#!/usr/bin/env python3
"""Test helper (not a test): queues cells on a Deno kernel the way a front
end's Run All does, and reports where each output arrived.

Reads JSON from stdin: {"cells": ["code", ...], "cwd": "...", "timeout": s,
"grace": s, "interrupts": [{"cell": i, "after": s}, ...]}. Sends every cell as an
execute_request at once, then reads IOPub until each request has been
reported idle (and a grace period after, to catch late outputs). Each of
"interrupts" interrupts the kernel as Jupyter's Stop does (SIGINT) `after`
seconds into cell i. Prints JSON: per cell, its status, when it went busy
and idle (seconds from the start), and its outputs in arrival order, each
with the `text/plain` (or stream text) it carried and `late: true` if it
came after its request's idle, and `busy_after_idle`, how many `busy`
statuses with its header came after its idle (a front end would show the
kernel busy again); `strays`, outputs whose parent is none of the requests;
`last_state`, the execution state of the last status message seen (what a
front end's indicator shows at the end); `interrupted_at` (one time per
interrupt); and whether the kernel is alive at the end.

Needs Debian's python3-jupyter-client and a kernel spec named by
KERNEL_NAME (default "deno") on JUPYTER_PATH.
"""
import json
import os
import sys
import time
from queue import Empty

from jupyter_client.manager import KernelManager

OUTPUT_TYPES = ("execute_result", "display_data", "update_display_data", "stream", "error")


def text_of(msg):
    c = msg["content"]
    if msg["msg_type"] == "stream":
        return c.get("text", "")
    if msg["msg_type"] == "error":
        return f"{c.get('ename')}: {c.get('evalue')}"
    return c.get("data", {}).get("text/plain", "")


def main():
    job = json.load(sys.stdin)
    km = KernelManager(kernel_name=os.environ.get("KERNEL_NAME", "deno"))
    km.start_kernel(cwd=job.get("cwd", "."))
    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        ids = [kc.execute(code) for code in job["cells"]]
        index = {mid: i for i, mid in enumerate(ids)}
        cells = [{"outputs": [], "idle": False, "status": None, "busy_at": None, "idle_at": None, "busy_after_idle": 0} for _ in ids]
        last_state = None
        strays = []
        start = time.time()
        deadline = start + job.get("timeout", 300)
        grace_until = None
        pending = list(job.get("interrupts", []))
        interrupted_at = []
        while time.time() < deadline:
            if pending:
                busy = cells[pending[0]["cell"]]["busy_at"]
                if busy is not None and time.time() - start >= busy + pending[0]["after"]:
                    km.interrupt_kernel()
                    interrupted_at.append(time.time() - start)
                    pending.pop(0)
            if grace_until is None and not pending and all(c["idle"] for c in cells):
                grace_until = time.time() + job.get("grace", 1.0)
            if grace_until is not None and time.time() > grace_until:
                break
            try:
                msg = kc.get_iopub_msg(timeout=0.2)
            except Empty:
                continue
            pid = msg["parent_header"].get("msg_id")
            kind = msg["msg_type"]
            i = index.get(pid)
            state = msg["content"].get("execution_state") if kind == "status" else None
            if state is not None:
                last_state = state
            if state == "busy" and i is not None and cells[i]["idle"]:
                cells[i]["busy_after_idle"] += 1
            if state == "busy" and i is not None and cells[i]["busy_at"] is None:
                cells[i]["busy_at"] = time.time() - start
            if state == "idle" and i is not None:
                cells[i]["idle"] = True
                cells[i]["idle_at"] = time.time() - start
            elif kind in OUTPUT_TYPES:
                out = {"type": kind, "text": text_of(msg)}
                if i is None:
                    strays.append(out)
                else:
                    out["late"] = cells[i]["idle"]
                    cells[i]["outputs"].append(out)
        for i, mid in enumerate(ids):
            try:
                reply = kc.get_shell_msg(timeout=5)
                j = index.get(reply["parent_header"].get("msg_id"))
                if j is not None:
                    cells[j]["status"] = reply["content"]["status"]
            except Empty:
                break
        print(json.dumps({"cells": cells, "strays": strays, "last_state": last_state, "interrupted_at": interrupted_at, "alive": km.is_alive()}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
