/**
 * The project's own Jupyter folder, `out/jupyter/`: the Deno kernel spec,
 * runtime files and configuration live there, never in the user's home,
 * for `deno task notebooks` and `deno task lab` alike.
 *
 * @example
 * ```ts
 * import { installDenoKernel, jupyterEnv } from "./jupyter_home.ts";
 * const env = jupyterEnv();
 * await installDenoKernel(env);
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "./args.ts";

/** The project's root folder. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The project-local Jupyter folder (kernel spec, runtime files, config). */
export const JUPYTER_HOME = join(ROOT, "out", "jupyter");

/**
 * Environment variables that point Jupyter (and the kernels it starts) at
 * `home` (default {@link JUPYTER_HOME}) instead of the user's folders.
 *
 * @example
 * ```ts
 * import { jupyterEnv } from "./jupyter_home.ts";
 * jupyterEnv().JUPYTER_PATH; // ".../out/jupyter/data/jupyter"
 * ```
 */
export function jupyterEnv(home = JUPYTER_HOME): Record<string, string> {
  return {
    JUPYTER_DATA_DIR: join(home, "data", "jupyter"),
    JUPYTER_PATH: join(home, "data", "jupyter"),
    JUPYTER_RUNTIME_DIR: join(home, "runtime"),
    JUPYTER_CONFIG_DIR: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    IPYTHONDIR: join(home, "ipython"),
    NO_COLOR: "1",
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
}

/**
 * The `jupyter` command to run: Debian's `/usr/bin/jupyter` if present,
 * else `jupyter` on PATH.
 *
 * @example
 * ```ts
 * import { defaultJupyter } from "./jupyter_home.ts";
 * defaultJupyter(); // "/usr/bin/jupyter" on Debian
 * ```
 */
export function defaultJupyter(): string {
  try {
    Deno.statSync("/usr/bin/jupyter");
    return "/usr/bin/jupyter";
  } catch {
    return "jupyter";
  }
}

/**
 * Installs this Deno's kernel spec (`deno jupyter --install`) into the
 * folder `env` points at; returns where it went.
 *
 * @throws {Error} with deno's own last lines when the install fails.
 * @example
 * ```ts
 * import { installDenoKernel, jupyterEnv } from "./jupyter_home.ts";
 * const dir = await installDenoKernel(jupyterEnv()); // ".../kernels/deno"
 * ```
 */
export async function installDenoKernel(
  env: Record<string, string>,
): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "jupyter",
      "--install",
      "--force",
      "--name",
      "deno",
      "--display",
      "Deno",
    ],
    env,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    const text = new TextDecoder().decode(out.stderr).trimEnd();
    throw new Error(
      `installing the Deno kernel spec failed: ${
        text.split("\n").slice(-3).join(" ")
      }`,
    );
  }
  return join(env.JUPYTER_DATA_DIR, "kernels", "deno");
}

/**
 * Whether `jupyter SUBCOMMAND --version` runs (e.g. "lab", "notebook").
 *
 * @example
 * ```ts
 * import { hasJupyterCommand } from "./jupyter_home.ts";
 * await hasJupyterCommand("/usr/bin/jupyter", "notebook", {}); // true with jupyter-notebook
 * ```
 */
export async function hasJupyterCommand(
  jupyter: string,
  sub: string,
  env: Record<string, string>,
): Promise<boolean> {
  try {
    const out = await new Deno.Command(jupyter, {
      args: [sub, "--version"],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code === 0;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(
        `${jupyter} was not found; install Jupyter (Debian: apt-get install jupyter-notebook) or pass --jupyter PATH.`,
      );
    }
    throw e;
  }
}
