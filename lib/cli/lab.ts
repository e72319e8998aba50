/**
 * `deno task lab`: opens the notebooks in the Jupyter installed on this
 * machine — JupyterLab if it is there, else the classic Notebook (Debian's
 * `jupyter-notebook`, which works offline) — on 127.0.0.1 in `notebooks/`,
 * with this Deno's kernel spec installed into the project (`out/jupyter/`),
 * and prints the address to open. Ctrl-C stops the server.
 *
 * @example
 * ```sh
 * deno task lab                 # then open the printed http://127.0.0.1:8888/…
 * deno task lab --port 9000
 * ```
 *
 * @module
 */
import { NOTEBOOK_DIR } from "./notebook_tools.ts";
import { intFlag, parseFlags, runMain, UsageError } from "./args.ts";
import {
  defaultJupyter,
  hasJupyterCommand,
  installDenoKernel,
  jupyterEnv,
  ROOT,
} from "./jupyter_home.ts";

const HELP =
  `Open the notebooks in Jupyter (JupyterLab, else the classic Notebook).

Usage: deno task lab [options]

Installs the Deno kernel spec into out/jupyter/ (not your home folder),
starts Jupyter on 127.0.0.1 in notebooks/, and prints the address to open.
Ctrl-C stops it.

Options:
  --port N        the port to listen on, refused if in use (default 8888,
                  or the next free one)
  --jupyter PATH  the jupyter command (default /usr/bin/jupyter if present,
                  else jupyter on PATH)
  -h, --help      show this help

Needs Jupyter (Debian: apt-get install jupyter-notebook). FMNIST_LIMIT,
FMNIST_EPOCHS and FMNIST_RECIPE, if set, reach the notebooks' settings.`;

/** The address with its token in a line of Jupyter's log, if any. */
export function jupyterUrl(line: string): string | null {
  const m = line.match(/http:\/\/127\.0\.0\.1:\d+\/\S*\?token=[0-9a-f]+/);
  return m ? m[0] : null;
}

async function main(): Promise<void> {
  const { values } = parseFlags(Deno.args, {
    port: { type: "string" },
    jupyter: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = intFlag("--port", values.port, 1) ?? 8888;
  if (port > 65535) {
    throw new UsageError(`--port must be at most 65535, got ${port}.`);
  }
  const jupyter = values.jupyter ?? defaultJupyter();
  const env = jupyterEnv();
  const kind = await hasJupyterCommand(jupyter, "lab", env)
    ? "lab"
    : await hasJupyterCommand(jupyter, "notebook", env)
    ? "notebook"
    : null;
  if (kind === null) {
    throw new UsageError(
      `${jupyter} has neither JupyterLab nor the Notebook; install one (Debian: apt-get install jupyter-notebook).`,
    );
  }
  const kernelDir = await installDenoKernel(env);
  console.log(
    `kernel: Deno ${Deno.version.deno} (spec in ${kernelDir}); starting Jupyter ${
      kind === "lab" ? "Lab" : "Notebook"
    } in ${NOTEBOOK_DIR} …`,
  );
  const child = new Deno.Command(jupyter, {
    args: [
      kind,
      "--ip=127.0.0.1",
      `--port=${port}`,
      // A port asked for is that port or none; the default may move on.
      ...(values.port === undefined ? [] : ["--port-retries=0"]),
      "--no-browser",
      // Jupyter refuses to run as root without it (containers, CI).
      "--allow-root",
      `--notebook-dir=${NOTEBOOK_DIR}`,
    ],
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  // Ctrl-C (or a kill) stops the server cleanly, without its y/n question.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log("Stopping Jupyter …");
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  let shown = false;
  let portTaken = false;
  let log = "";
  const debug = Boolean(Deno.env.get("DEBUG"));
  for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
    log += chunk;
    const lines = log.split("\n");
    log = lines.pop() ?? "";
    for (const line of lines) {
      const url = shown ? null : jupyterUrl(line);
      if (/port \d+ is not available/.test(line)) {
        portTaken = true;
      } else if (url !== null) {
        shown = true;
        console.log(`\nOpen the notebooks at ${url}\n(Ctrl-C stops Jupyter)`);
      } else if (debug || /^\[[WEC] [^\]]*\] \S/.test(line)) {
        // Jupyter's warnings and errors; DEBUG=1 shows its whole log.
        console.error(line);
      }
    }
  }
  const status = await child.status;
  Deno.removeSignalListener("SIGINT", stop);
  Deno.removeSignalListener("SIGTERM", stop);
  if (portTaken) {
    throw new UsageError(
      `port ${port} is in use; choose another with --port, or leave --port out to take the next free one from 8888.`,
    );
  }
  if (!stopping && status.code !== 0) {
    throw new Error(
      `Jupyter stopped with exit code ${status.code}${
        log ? `: ${log.trim()}` : ""
      }; run with DEBUG=1 to see its log.`,
    );
  }
}

if (import.meta.main) {
  await runMain(main);
}
