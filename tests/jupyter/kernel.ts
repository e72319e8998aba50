/**
 * Test helper (not a test): a project-local Jupyter home with the Deno
 * kernel spec of the Deno running the tests, and the queued-requests
 * client (queued_client.py) run against it.
 */
import { join } from "node:path";
import { ROOT } from "../paths.ts";
import { installDenoKernel, jupyterEnv } from "../../lib/cli/jupyter_home.ts";

/**
 * Environment variables that put Jupyter's data, runtime and config under
 * `home`, with the Deno kernel spec installed there (`deno jupyter
 * --install` writes to XDG_DATA_HOME/jupyter/kernels/deno).
 */
export async function jupyterHome(
  home: string,
): Promise<Record<string, string>> {
  const env = jupyterEnv(home);
  await installDenoKernel(env);
  return env;
}

/** One output as queued_client.py reports it. */
export interface QueuedOutput {
  type: string;
  text: string;
  late: boolean;
}

/** One cell as queued_client.py reports it. */
export interface QueuedCell {
  outputs: QueuedOutput[];
  idle: boolean;
  status: string | null;
  busy_at: number | null;
  idle_at: number | null;
  /** `busy` statuses with this cell's header that came after its idle. */
  busy_after_idle: number;
}

/** What queued_client.py prints. */
export interface QueuedReport {
  cells: QueuedCell[];
  strays: Array<{ type: string; text: string }>;
  /** The state of the last status message: what a front end shows. */
  last_state: string | null;
  interrupted_at: number[];
  alive: boolean;
}

/**
 * Queues `cells` on a fresh Deno kernel (working folder `cwd`) at once, as
 * a front end's Run All does, and reports where each output arrived.
 */
export async function runQueued(job: {
  cells: string[];
  cwd: string;
  env: Record<string, string>;
  interrupts?: Array<{ cell: number; after: number }>;
  timeout?: number;
}): Promise<QueuedReport> {
  const child = new Deno.Command("/usr/bin/python3", {
    args: [join(ROOT, "tests", "jupyter", "queued_client.py")],
    env: job.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({
    cells: job.cells,
    cwd: job.cwd,
    interrupts: job.interrupts ?? [],
    timeout: job.timeout ?? 300,
  })));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(
      `queued_client.py failed (${out.code}): ${
        new TextDecoder().decode(out.stderr).slice(-3000)
      }`,
    );
  }
  return JSON.parse(stdout);
}
