"""nbconvert preprocessor for notebooks run with the Deno kernel.

Deno's kernel (2.x) can publish a cell's last outputs - its result, or a
display update - a moment *after* it reports the cell idle. nbclient stops
reading a cell's outputs at "idle", so such outputs would be lost at random.
DenoExecutePreprocessor is nbconvert's ExecutePreprocessor that keeps reading
the cell's outputs until none has come for `late_output_grace` seconds.

Used by `deno task notebooks` (lib/cli/notebooks.ts):
    jupyter nbconvert --to notebook \
      --NotebookExporter.preprocessors=deno_execute.DenoExecutePreprocessor \
      --DenoExecutePreprocessor.enabled=True ...
with this folder on PYTHONPATH.
"""
from queue import Empty

from nbclient.exceptions import CellExecutionComplete
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Float


class DenoExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor that also keeps outputs sent just after "idle"."""

    late_output_grace = Float(
        0.5,
        help="Seconds to keep reading a cell's outputs after the kernel "
        "reported it idle, waiting for late ones.",
    ).tag(config=True)

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
