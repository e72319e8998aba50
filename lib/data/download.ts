/**
 * Downloading Fashion-MNIST from the official mirrors: each file verified
 * before it is written, atomically, so the folder never holds a partial or
 * wrong file.
 *
 * @example
 * ```ts
 * import { downloadFashionMnist } from "./download.ts";
 * await downloadFashionMnist("data"); // needs --allow-net and --allow-write=data
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../files.ts";
import { DataError, DATASET_FILES, HOW_TO_GET } from "./fashion_mnist.ts";
import { gunzip, verifyContent } from "./idx.ts";
import { probe } from "./local.ts";

/**
 * The official download mirrors, tried in order.
 *
 * @example
 * ```ts
 * import { MIRRORS } from "./download.ts";
 * console.log(MIRRORS[0]);
 * ```
 */
export const MIRRORS: readonly string[] = Object.freeze([
  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
  "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
]);

/** The body of `url`, or an error saying its HTTP status or failure. */
async function fetchBytes(url: string, timeoutMs: number): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Downloads the four `.gz` files into `dir` from the first mirror that
 * works. Each file is verified before it is moved into place, so `dir`
 * never holds a partial or wrong file.
 *
 * @throws {DataError} when no mirror can be reached, saying the other ways to get the data.
 * @example
 * ```ts
 * import { downloadFashionMnist } from "./download.ts";
 * await downloadFashionMnist("data"); // needs --allow-net and --allow-write=data
 * ```
 */
export async function downloadFashionMnist(
  dir: string,
  mirrors: readonly string[] = MIRRORS,
  onProgress: (message: string) => void = () => {},
  timeoutMs = 30000,
): Promise<void> {
  for (const spec of DATASET_FILES) {
    const target = join(dir, spec.name + ".gz");
    const found = await probe(target);
    if (typeof found === "object") {
      throw new DataError(
        `${target} ${found.what}, where the download would be saved; remove it and try again.`,
      );
    }
  }
  const failures: string[] = [];
  for (const mirror of mirrors) {
    try {
      for (const spec of DATASET_FILES) {
        const target = join(dir, spec.name + ".gz");
        if ((await probe(target)) === "file") continue;
        onProgress(`downloading ${mirror}${spec.name}.gz`);
        const gz = await fetchBytes(`${mirror}${spec.name}.gz`, timeoutMs);
        await verifyContent(
          await gunzip(gz, spec.name + ".gz"),
          spec,
          `${mirror}${spec.name}.gz`,
        );
        await writeFileAtomic(target, gz);
      }
      return;
    } catch (e) {
      failures.push(`${mirror}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new DataError(
    `Fashion-MNIST was not found locally and could not be downloaded (${
      failures.join("; ")
    }); to get it, ${HOW_TO_GET}.`,
  );
}
