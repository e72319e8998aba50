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
 *
 * @example
 * ```ts
 * import { UsageError } from "./args.ts";
 * throw new UsageError("--epochs must be a positive integer, got 0.");
 * ```
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

/**
 * `parseArgs` from `node:util` in strict mode, turning its errors into
 * {@link UsageError}s. Positional arguments are an error unless
 * `allowPositionals` is true.
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
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.split("\n")[0]} (see --help).`,
    );
  }
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
      console.error(
        `error: ${
          err.message.split("\n")[0]
        }; write outputs under out/ (the task's permission) or run the script with wider --allow-write.`,
      );
      Deno.exit(1);
    }
    console.error(`error: ${err.message}`);
    if (!isUserError(e) && !Deno.env.get("DEBUG")) {
      console.error("(unexpected; run with DEBUG=1 for details)");
    }
    Deno.exit(1);
  }
}
