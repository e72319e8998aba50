"""nbconvert preprocessor for notebooks run with the Deno kernel.

Deno's kernel (2.x) can publish a cell's last outputs - its result, or a
display update - a moment *after* it reports the cell idle. nbclient stops
reading a cell's outputs at "idle", so such outputs would be lost at random.
DenoExecutePreprocessor is nbconvert's ExecutePreprocessor that keeps reading
the cell's outputs until none has come for `late_output_grace` seconds.

With `progress` on, it also reports progress on stderr, one line each
starting with PROGRESS_PREFIX and a JSON object: {"cell": i, "cells": n,
"source": first line} when the i-th of n code cells starts, and {"text":
last line} for the last line of the running cell's text output (a stream,
or a display's text/plain - the training progress line is one).

Used by `deno task notebooks` (lib/cli/notebooks.ts):
    jupyter nbconvert --to notebook \
      --NotebookExporter.preprocessors=deno_execute.DenoExecutePreprocessor \
      --DenoExecutePreprocessor.enabled=True ...
with this folder on PYTHONPATH.
"""
import json
import sys
from queue import Empty

from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Bool, Float

PROGRESS_PREFIX = "@@notebook-progress "


def last_text_line(msg):
    """The last non-empty line of a message's text output, or None."""
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        text = content.get("text", "")
    elif msg["msg_type"] in ("display_data", "update_display_data", "execute_result"):
        text = content.get("data", {}).get("text/plain", "")
    else:
        return None
    lines = [line for line in str(text).splitlines() if line.strip()]
    return lines[-1].strip() if lines else None


class DenoExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor that also keeps outputs sent just after "idle"."""

    late_output_grace = Float(
        0.5,
        help="Seconds to keep reading a cell's outputs after the kernel "
        "reported it idle, waiting for late ones.",
    ).tag(config=True)

    progress = Bool(
        False,
        help="Report each code cell's start and its text outputs' last "
        "lines on stderr, for a progress display.",
    ).tag(config=True)

    def _report(self, obj):
        sys.stderr.write(PROGRESS_PREFIX + json.dumps(obj) + "\n")
        sys.stderr.flush()

    def preprocess(self, nb, resources=None, km=None):
        # The code cells' numbers (1 to n, empty cells left out), once per notebook.
        code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
        self._numbers = {id(c): i for i, c in enumerate(code, 1)}
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        number = self._numbers.get(id(cell)) if self.progress else None
        if number is not None:
            first = next((l for l in cell.source.splitlines() if l.strip()), "")
            self._report({"cell": number, "cells": len(self._numbers), "source": first.strip()})
        return super().preprocess_cell(cell, resources, index)

    def process_message(self, msg, cell, cell_index):
        if self.progress:
            line = last_text_line(msg)
            if line is not None:
                self._report({"text": line})
        return super().process_message(msg, cell, cell_index)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = await ensure_async(
                    self.kc.iopub_channel.get_msg(timeout=self.late_output_grace)
                )
            except Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass
