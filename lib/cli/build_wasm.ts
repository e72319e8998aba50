/**
 * `deno task build:wasm`: compiles this project's WebAssembly kernels
 * (`lib/backend/simd/kernels.as.ts`, AssemblyScript) with the pinned
 * AssemblyScript compiler from npm, in two variants — for tfjs-wasm's
 * shared memory (threaded build) and for its plain memory (one thread) —
 * and writes them, base64-encoded, to `lib/backend/simd/kernels_wasm.ts`.
 * Run it after editing the AssemblyScript source; commit both files. The
 * test suite checks that the committed bytes are what the source compiles
 * to.
 *
 * @example
 * ```sh
 * deno task build:wasm
 * ```
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { helpOnly, runMain } from "./args.ts";

/** The AssemblyScript compiler, pinned. */
export const ASSEMBLYSCRIPT = "assemblyscript@0.28.20";

const SOURCE = fileURLToPath(
  new URL("../backend/simd/kernels.as.ts", import.meta.url),
);
const OUTPUT = fileURLToPath(
  new URL("../backend/simd/kernels_wasm.ts", import.meta.url),
);

/** Compiles the kernels for shared (`true`) or plain memory. */
async function compile(shared: boolean): Promise<Uint8Array> {
  // Inside the task's write permission; removed below.
  const dir = await Deno.makeTempDir({
    dir: dirname(OUTPUT),
    prefix: ".build-",
  });
  try {
    const out = `${dir}/kernels.wasm`;
    const args = [
      "-y",
      "-p",
      ASSEMBLYSCRIPT,
      "asc",
      SOURCE,
      "-O3",
      "--runtime",
      "stub",
      "--use",
      "abort=",
      "--importMemory",
      "--noExportMemory",
      "--initialMemory",
      "1",
      "--maximumMemory",
      "65536",
      "--enable",
      "simd",
      "--enable",
      "relaxed-simd",
      ...(shared ? ["--sharedMemory", "--enable", "threads"] : []),
      "--outFile",
      out,
    ];
    const run = await new Deno.Command("npx", {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output().catch((e) => {
      throw new Error(
        `could not run npx (${
          (e as Error).message
        }); install Node.js and npm, then try again.`,
      );
    });
    if (run.code !== 0) {
      throw new Error(
        `the AssemblyScript compiler failed:\n${
          new TextDecoder().decode(run.stderr)
        }`,
      );
    }
    return await Deno.readFile(out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Compiles both variants of the kernels.
 *
 * @example
 * ```ts
 * import { compileKernels } from "./build_wasm.ts";
 * const { shared, plain } = await compileKernels();
 * ```
 */
export async function compileKernels(): Promise<
  { shared: Uint8Array; plain: Uint8Array }
> {
  return { shared: await compile(true), plain: await compile(false) };
}

function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * The text of `kernels_wasm.ts` for the compiled bytes.
 *
 * @example
 * ```ts
 * import { compileKernels, kernelsModuleText } from "./build_wasm.ts";
 * const text = kernelsModuleText(await compileKernels());
 * ```
 */
export function kernelsModuleText(
  wasm: { shared: Uint8Array; plain: Uint8Array },
): string {
  const wrap = (s: string) =>
    s.replace(/.{1,76}/g, (line) => `  "${line}" +\n`);
  return `/**
 * This project's WebAssembly kernels, compiled from \`kernels.as.ts\` by
 * \`deno task build:wasm\` (${ASSEMBLYSCRIPT}). Generated: do not edit.
 *
 * @module
 */

/** The kernels for shared memory (tfjs-wasm's threaded build), base64. */
export const KERNELS_SHARED_WASM =
${wrap(base64(wasm.shared))}  "";

/** The kernels for plain memory (tfjs-wasm's one-thread build), base64. */
export const KERNELS_PLAIN_WASM =
${wrap(base64(wasm.plain))}  "";
`;
}

const HELP = `deno task build:wasm: compiles lib/backend/simd/kernels.as.ts
(AssemblyScript; ${ASSEMBLYSCRIPT} from npm, run through npx) for
tfjs-wasm's shared and plain memories, and writes both, base64-encoded, to
lib/backend/simd/kernels_wasm.ts. Run it after editing the source; commit both
files. Takes no arguments.

  --help, -h   this text`;

async function main(): Promise<void> {
  if (helpOnly(Deno.args, HELP)) return;
  const text = kernelsModuleText(await compileKernels());
  const tmp = `${OUTPUT}.tmp`;
  await Deno.writeTextFile(tmp, text);
  await Deno.rename(tmp, OUTPUT);
  console.log(`wrote ${OUTPUT}`);
}

if (import.meta.main) await runMain(main);
