/**
 * Command-line parsing shared by the `deno task` entry points: flags with
 * validated integer values, `--help`, and user errors reported as one
 * sentence.
 *
 * @module
 */
import { parseArgs } from "node:util";

/**
 * A mistake the user made on the command line or with files; printed as
 * one line without a stack trace, exit code 2.
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Parses a flag's value as an integer ≥ `min`, or returns `undefined` when
 * it is absent.
 *
 * @throws {UsageError} naming the flag when the value is not such an integer.
 * @example
 * ```ts
 * import { intFlag } from "./args.ts";
 * intFlag("--epochs", "3", 1); // 3
 * ```
 */
export function intFlag(
  name: string,
  value: string | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(
      `${name} must be an integer of at least ${min}, got "${value}".`,
    );
  }
  return n;
}

/** A value that starts with a dash but is a number: `-1`, `-0.5`, `-.5`. */
const NEGATIVE_NUMBER = /^-\.?\d/;

/**
 * `args` with every negative number that follows a flag taking a value
 * joined to it (`--epochs -1` becomes `--epochs=-1`, `-n -1` becomes
 * `-n-1`), so that `parseArgs` reads it as the value instead of refusing it
 * as an option ("argument is ambiguous"); the flag's own check then says
 * what is wrong with it. Other arguments, and everything after `--`, are
 * left as they are.
 *
 * @example
 * ```ts
 * import { joinNegativeValues } from "./args.ts";
 * joinNegativeValues(["--epochs", "-1"], { epochs: { type: "string" } }); // ["--epochs=-1"]
 * ```
 */
export function joinNegativeValues(
  args: readonly string[],
  options: Record<string, { type: "string" | "boolean"; short?: string }>,
): string[] {
  const takesValue = new Set<string>();
  for (const [name, option] of Object.entries(options)) {
    if (option.type !== "string") continue;
    takesValue.add(`--${name}`);
    if (option.short) takesValue.add(`-${option.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (
      takesValue.has(arg) && next !== undefined && NEGATIVE_NUMBER.test(next)
    ) {
      out.push(arg.startsWith("--") ? `${arg}=${next}` : `${arg}${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * `parseArgs` from `node:util` in strict mode, turning its errors into
 * {@link UsageError}s. Positional arguments are an error unless
 * `allowPositionals` is true. A negative number after a flag that takes a
 * value is that flag's value (see {@link joinNegativeValues}), so
 * `--epochs -1` meets the flag's own check, as `--epochs 0` does.
 *
 * @example
 * ```ts
 * import { parseFlags } from "./args.ts";
 * const { values } = parseFlags(["--epochs", "2"], { epochs: { type: "string" } });
 * ```
 */
export function parseFlags<
  T extends Record<string, { type: "string" | "boolean"; short?: string }>,
>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals,
    });
  } catch (e) {
    // node:util's advice on positionals that start with "-" is not ours.
    const message = (e as Error).message.split("\n")[0]
      .replace(/\. To specify a positional argument.*$/, "");
    throw new UsageError(`${message} (see --help).`);
  }
}

/**
 * For a task that takes no arguments: prints `help` and returns true on
 * `--help`/`-h`; any other argument is a {@link UsageError}.
 *
 * @example
 * ```ts
 * import { helpOnly } from "./args.ts";
 * if (helpOnly(["--help"], "deno task x: does x.")) Deno.exit(0);
 * ```
 */
export function helpOnly(args: string[], help: string): boolean {
  const { values } = parseFlags(args, {
    help: { type: "boolean", short: "h" },
  });
  if (values.help) console.log(help);
  return values.help === true;
}

/**
 * The one line printed for a refused permission: Deno's first line and what
 * to do. A refused write is about outputs (the tasks write under `out/`);
 * anything else (a program to run, a host, a variable) is outside what the
 * task allows, listed in README's "Permissions".
 *
 * @example
 * ```ts
 * import { permissionHint } from "./args.ts";
 * permissionHint('Requires run access to "/opt/jupyter", run again with the --allow-run flag');
 * // 'Requires run access to "/opt/jupyter", run again with the --allow-run flag; the task may not (see "Permissions" in README), so run the script with deno run and that permission.'
 * ```
 */
export function permissionHint(message: string): string {
  const kind = /^Requires (\w+) access/.exec(message)?.[1];
  if (kind === undefined || kind === "write") {
    return `${message}; write outputs under out/ (the task's permission) or run the script with wider --allow-write.`;
  }
  return `${message}; the task may not (see "Permissions" in README), so run the script with deno run and that permission.`;
}

/**
 * Runs a command's `main`, printing user errors as one line (exit 2 for
 * usage, 1 otherwise) instead of a stack trace. Unexpected errors print
 * their message and exit 1; set `DEBUG=1` for the stack.
 *
 * @example
 * ```ts
 * import { runMain } from "./args.ts";
 * await runMain(async () => { console.log("hi"); });
 * ```
 */
export async function runMain(
  main: () => Promise<void>,
  isUserError: (e: unknown) => boolean = () => false,
): Promise<void> {
  try {
    await main();
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (Deno.env.get("DEBUG")) console.error(err.stack);
    if (e instanceof UsageError) {
      console.error(`error: ${err.message}`);
      Deno.exit(2);
    }
    if (
      e instanceof Deno.errors.NotCapable ||
      e instanceof Deno.errors.PermissionDenied
    ) {
      console.error(`error: ${permissionHint(err.message.split("\n")[0])}`);
      Deno.exit(1);
    }
    console.error(`error: ${err.message}`);
    if (!isUserError(e) && !Deno.env.get("DEBUG")) {
      console.error("(unexpected; run with DEBUG=1 for details)");
    }
    Deno.exit(1);
  }
}
