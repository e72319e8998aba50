#!/usr/bin/env python3
"""PyTorch side of `deno task bench --compare-pytorch`.

MiniVGGNet as lib/model.ts builds it, in PyTorch, timed on random data of
Fashion-MNIST's shape. Runs as a long-lived worker so the Deno side can
alternate timed windows between the two frameworks: one JSON object per line
on stdin, one reply per line on stdout.

    usage: pytorch_minivggnet.py THREADS

    out (first line)  {"hello": "pytorch_minivggnet", "torch": "2.x", "python": "3.x",
                       "threads": N, "interop_threads": N, "params": 1679082,
                       "cpu": "AMD EPYC 9R14"}
    in                {"op": "train", "batch": 32, "seconds": 2}
    out               {"op": "train", "batch": 32, "images": 1280, "seconds": 2.01,
                       "images_per_second": 636.8}
    in                {"op": "infer", "batch": 256, "seconds": 2}
    in                {"op": "train", "batch": 128, "seconds": 2, "threads": 1}
    out               {..., "threads": 1}
    in                {"op": "quit"}

A request's "threads" (1 to THREADS, default THREADS) sets the intra-op threads
for that window only (`deno task bench --scaling`); every reply says how many
ran.

The first request for an (op, batch) pair runs a few untimed steps before its
window (oneDNN prepares its kernels on first use).

glibc's malloc is set to keep freed memory (mallopt, before torch loads):
with its defaults, PyTorch's large activation buffers go back to the
operating system after each step and are faulted in again, zeroed, on the
next, and the speed then depends on what ran before (inference at batch 256
measured 466-536 images/s on a fresh worker and 2,200-2,500 after training
at batch 128, on the same machine). Kept, PyTorch runs at its best every
time, which is the stricter comparison. The hello line says so ("malloc"). Without PyTorch the worker
prints {"error": "no-torch", "detail": "..."} and exits with code 3.
"""
import ctypes
import json
import platform
import sys
import time

# mallopt parameters (glibc's malloc.h): never hand large blocks to mmap, and
# never trim the heap back to the operating system.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def keep_freed_memory():
    """Returns whether glibc's malloc now keeps freed memory for reuse."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
        )
    except OSError:
        return False


MALLOC = "kept" if keep_freed_memory() else "default"


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import torch
    from torch import nn
except ImportError as e:
    reply({"error": "no-torch", "detail": str(e)})
    sys.exit(3)

WARMUP_STEPS = 3


def conv_unit(channels_in, channels_out):
    """conv 3x3 same padding, then ReLU, then BatchNorm (activation first, as in lib/model.ts)."""
    return [
        nn.Conv2d(channels_in, channels_out, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.BatchNorm2d(channels_out),
    ]


def mini_vggnet(classes=10):
    """MiniVGGNet for 1x28x28 input: logits out (softmax is in the loss, or applied for inference)."""
    return nn.Sequential(
        *conv_unit(1, 32),
        *conv_unit(32, 32),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        *conv_unit(32, 64),
        *conv_unit(64, 64),
        nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 512),
        nn.ReLU(),
        nn.BatchNorm1d(512),
        nn.Dropout(0.5),
        nn.Linear(512, classes),
    )


def cpu_model():
    """The CPU's model name, from the first "model name" line of /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def count_params(model):
    """Weights and biases plus BatchNorm's running mean and variance, as Keras counts them."""
    weights = sum(p.numel() for p in model.parameters())
    stats = sum(
        b.numel()
        for name, b in model.named_buffers()
        if name.endswith("running_mean") or name.endswith("running_var")
    )
    return weights + stats


class Bench:
    def __init__(self):
        torch.manual_seed(1)
        self.model = mini_vggnet()
        # The seed recipe: SGD, momentum 0.9, learning rate 0.01.
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss = nn.CrossEntropyLoss()
        self.data = {}
        self.warm = set()

    def batch(self, size):
        if size not in self.data:
            g = torch.Generator().manual_seed(size)
            x = torch.rand(size, 1, 28, 28, generator=g)
            y = torch.randint(0, 10, (size,), generator=g)
            self.data[size] = (x, y)
        return self.data[size]

    def train_step(self, x, y):
        self.optimizer.zero_grad(set_to_none=True)
        self.loss(self.model(x), y).backward()
        self.optimizer.step()

    def infer_step(self, x):
        torch.softmax(self.model(x), dim=1)

    def window(self, op, size, seconds):
        x, y = self.batch(size)
        if op == "train":
            self.model.train()
            step = lambda: self.train_step(x, y)
        else:
            self.model.eval()
            step = lambda: self.infer_step(x)
        with torch.inference_mode(op == "infer"):
            if (op, size) not in self.warm:
                for _ in range(WARMUP_STEPS):
                    step()
                self.warm.add((op, size))
            images = 0
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                step()
                images += size
            elapsed = time.perf_counter() - start
        return {
            "op": op,
            "batch": size,
            "images": images,
            "seconds": round(elapsed, 4),
            "images_per_second": images / elapsed,
        }


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.stderr.write("usage: pytorch_minivggnet.py THREADS (an integer of at least 1)\n")
        sys.exit(2)
    threads = int(sys.argv[1])
    # Inter-op threads can only be set before any parallel work starts.
    torch.set_num_interop_threads(threads)
    torch.set_num_threads(threads)
    bench = Bench()
    reply({
        "hello": "pytorch_minivggnet",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "params": count_params(bench.model),
        "cpu": cpu_model(),
        "malloc": MALLOC,
    })
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        op = request.get("op")
        if op == "quit":
            break
        if op not in ("train", "infer"):
            raise ValueError(f"unknown op {op!r}; expected train, infer or quit")
        # A window may ask for fewer threads than the worker's (the bench's
        # --scaling); the count goes back to the worker's after it.
        window_threads = int(request.get("threads", threads))
        if not 1 <= window_threads <= threads:
            raise ValueError(f"threads {window_threads} is outside 1..{threads}")
        torch.set_num_threads(window_threads)
        try:
            result = bench.window(op, int(request["batch"]), float(request["seconds"]))
            result["threads"] = torch.get_num_threads()
        finally:
            torch.set_num_threads(threads)
        reply(result)


if __name__ == "__main__":
    main()
