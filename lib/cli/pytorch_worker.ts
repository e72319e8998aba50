/**
 * The PyTorch worker of `deno task bench --compare-pytorch`
 * (`bench/pytorch_minivggnet.py`), started once and asked for timed windows
 * over JSON lines on its stdin and stdout; see that script for the protocol.
 *
 * @example
 * ```ts ignore
 * import { startPytorchWorker } from "./pytorch_worker.ts";
 * const worker = await startPytorchWorker({ python: "/usr/bin/python3", threads: 2 });
 * const rate = await worker.window("train", 32, 2); // images/s
 * await worker.close();
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { lines } from "./lines.ts";

/**
 * The worker script, in the project's `bench/` folder.
 *
 * @example
 * ```ts
 * import { PYTORCH_WORKER } from "./pytorch_worker.ts";
 * PYTORCH_WORKER.endsWith("bench/pytorch_minivggnet.py"); // true
 * ```
 */
export const PYTORCH_WORKER = fileURLToPath(
  new URL("../../bench/pytorch_minivggnet.py", import.meta.url),
);

const INSTALL =
  "install it with `apt-get install python3-torch`, or name a Python that has torch with --python";

/**
 * The comparison cannot run or went wrong on PyTorch's side (no Python, no
 * torch, the worker stopped); a user's problem, printed as one sentence.
 *
 * @example
 * ```ts
 * import { PytorchError } from "./pytorch_worker.ts";
 * new PytorchError("--compare-pytorch needs Debian's PyTorch.").message;
 * ```
 */
export class PytorchError extends Error {
  override name = "PytorchError";
}

/**
 * The worker's first line: what runs on PyTorch's side.
 *
 * @example
 * ```ts
 * import type { PytorchHello } from "./pytorch_worker.ts";
 * const h: PytorchHello = { hello: "pytorch_minivggnet", torch: "1.13.1", python: "3.11.2", threads: 2, interop_threads: 2, params: 1679082, cpu: "AMD EPYC", malloc: "kept" };
 * ```
 */
export interface PytorchHello {
  hello: string;
  torch: string;
  python: string;
  threads: number;
  interop_threads: number;
  params: number;
  /** The CPU's model name (from /proc/cpuinfo). */
  cpu: string;
  /**
   * `kept` when glibc's malloc keeps freed memory for reuse (the worker
   * sets it: PyTorch's speed otherwise depends on what ran before),
   * `default` when that could not be set.
   */
  malloc: "kept" | "default";
}

/**
 * A started worker.
 *
 * @example
 * ```ts
 * import type { PytorchWorker } from "./pytorch_worker.ts";
 * declare const worker: PytorchWorker;
 * const rate: Promise<number> = worker.window("infer", 256, 2);
 * ```
 */
export interface PytorchWorker {
  /** What the worker said when it started. */
  readonly hello: PytorchHello;
  /**
   * One timed window of ≥ `seconds`, images/s (warms up first on a new op
   * and batch), on `threads` intra-op threads (default: the worker's).
   */
  window(
    op: "train" | "infer",
    batch: number,
    seconds: number,
    threads?: number,
  ): Promise<number>;
  /** Asks the worker to quit and waits for it. */
  close(): Promise<void>;
}

/**
 * Options of {@link startPytorchWorker}.
 *
 * @example
 * ```ts
 * import type { PytorchWorkerOptions } from "./pytorch_worker.ts";
 * const o: PytorchWorkerOptions = { python: "/usr/bin/python3", threads: 2 };
 * ```
 */
export interface PytorchWorkerOptions {
  /** The Python to run the worker with. */
  python: string;
  /** Threads for PyTorch (intra- and inter-op). */
  threads: number;
  /** The worker script (default {@link PYTORCH_WORKER}). */
  script?: string;
}

/**
 * Starts the PyTorch worker and reads its hello line.
 *
 * @throws {PytorchError} when Python is missing, cannot import torch, or the
 * worker stops before saying hello.
 * @example
 * ```ts ignore
 * import { startPytorchWorker } from "./pytorch_worker.ts";
 * const worker = await startPytorchWorker({ python: "/usr/bin/python3", threads: 1 });
 * console.log(worker.hello.torch);
 * await worker.close();
 * ```
 */
export async function startPytorchWorker(
  options: PytorchWorkerOptions,
): Promise<PytorchWorker> {
  const { python, threads, script = PYTORCH_WORKER } = options;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(python, {
      args: [script, String(threads)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new PytorchError(
        `--compare-pytorch needs Debian's PyTorch, but there is no Python at ${python}: ${INSTALL}.`,
      );
    }
    throw e;
  }
  let lastStderr = "";
  const stderrDone = (async () => {
    for await (const line of lines(child.stderr)) {
      if (line.trim() !== "") lastStderr = line.trim();
    }
  })();
  const replies = lines(child.stdout);
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();

  /** The worker's next line as JSON, or a PytorchError saying why there is none. */
  const next = async (during: string): Promise<Record<string, unknown>> => {
    const { value, done } = await replies.next();
    if (done) {
      const { code } = await child.status;
      await stderrDone;
      throw new PytorchError(
        `The PyTorch worker (${script}) stopped ${during} (exit code ${code})${
          lastStderr ? `; its last message: ${lastStderr}` : ""
        }.`,
      );
    }
    try {
      return JSON.parse(value);
    } catch {
      throw new PytorchError(
        `The PyTorch worker (${script}) printed something that is not a JSON line ${during}: ${
          value.slice(0, 200)
        }`,
      );
    }
  };

  const hello = await next("before saying hello");
  if (hello.error === "no-torch") {
    await child.status;
    throw new PytorchError(
      `--compare-pytorch needs Debian's PyTorch, but ${python} cannot import torch (${hello.detail}): ${INSTALL}.`,
    );
  }
  if (hello.hello !== "pytorch_minivggnet") {
    child.kill();
    throw new PytorchError(
      `The PyTorch worker (${script}) began with ${
        JSON.stringify(hello).slice(0, 200)
      } instead of its hello line.`,
    );
  }
  return {
    hello: hello as unknown as PytorchHello,
    async window(op, batch, seconds, threads) {
      const during = `during ${
        op === "train" ? "training" : "inference"
      } at batch ${batch}${
        threads === undefined
          ? ""
          : ` on ${threads} thread${threads === 1 ? "" : "s"}`
      }`;
      try {
        await writer.write(
          encoder.encode(
            JSON.stringify({ op, batch, seconds, threads }) + "\n",
          ),
        );
      } catch {
        // A closed pipe: the worker has gone; next() says how.
      }
      const r = await next(during);
      if (typeof r.images_per_second !== "number") {
        throw new PytorchError(
          `The PyTorch worker (${script}) answered ${
            JSON.stringify(r).slice(0, 200)
          } ${during}, without images_per_second.`,
        );
      }
      if (threads !== undefined && r.threads !== threads) {
        throw new PytorchError(
          `The PyTorch worker (${script}) ran on ${r.threads} threads ${during}; it is an older script that ignores a window's thread count, or PyTorch could not change it.`,
        );
      }
      return r.images_per_second;
    },
    async close() {
      try {
        await writer.write(encoder.encode('{"op":"quit"}\n'));
        await writer.close();
      } catch {
        // Already gone.
      }
      for await (const _ of replies) {
        // Whatever it printed after the last reply.
      }
      await child.status;
      await stderrDone;
    },
  };
}
