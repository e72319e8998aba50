#!/usr/bin/env python3
"""Test helper (not a test): queues cells on a Deno kernel the way a front
end's Run All does, and reports where each output arrived.

Reads JSON from stdin: {"cells": ["code", ...], "cwd": "...", "timeout": s}.
Sends every cell as an execute_request at once, then reads IOPub until each
request has been reported idle (and a grace period after, to catch late
outputs). Prints JSON: per cell, its status and its outputs in arrival
order, each output with the `text/plain` (or stream text) it carried and
`late: true` if it came after its request's idle; plus `strays`, outputs
whose parent is none of the requests.

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
        cells = [{"outputs": [], "idle": False, "status": None} for _ in ids]
        strays = []
        deadline = time.time() + job.get("timeout", 300)
        grace_until = None
        while time.time() < deadline:
            if grace_until is None and all(c["idle"] for c in cells):
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
            if kind == "status" and i is not None and msg["content"]["execution_state"] == "idle":
                cells[i]["idle"] = True
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
        print(json.dumps({"cells": cells, "strays": strays}))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
