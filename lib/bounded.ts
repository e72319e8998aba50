/**
 * Reading files a user hands us with a ceiling on how much is read, so that
 * a huge file, a device such as `/dev/zero` or a pipe cannot fill memory.
 *
 * @example
 * ```ts
 * import { readFileAtMost } from "./bounded.ts";
 * const bytes = await readFileAtMost("photo.jpg", 256 * 2 ** 20);
 * if (bytes === undefined) console.log("photo.jpg is larger than 256 MiB.");
 * ```
 *
 * @module
 */

/**
 * Reads the file at `path` whole when it holds at most `maxBytes` bytes;
 * returns `undefined`, having read at most `maxBytes + 1` bytes, when it
 * holds more (for a regular file that is known from its size before
 * anything is read). Errors opening or reading it (`Deno.errors.NotFound`,
 * `Deno.errors.IsADirectory`, …) are thrown as they are, for the caller to
 * word.
 *
 * @example
 * ```ts
 * import { readFileAtMost } from "./bounded.ts";
 * const json = await readFileAtMost("out/model/model.json", 4 * 2 ** 20);
 * ```
 */
export async function readFileAtMost(
  path: string,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const file = await Deno.open(path);
  try {
    const info = await file.stat();
    if (info.isDirectory) {
      throw new Deno.errors.IsADirectory(`Is a directory: ${path}`);
    }
    if (info.isFile && info.size > maxBytes) return undefined;
    // A regular file's size is known (one spare byte sees the end of the
    // file); anything else grows from 64 KiB.
    let buf = new Uint8Array(
      Math.min(maxBytes + 1, info.isFile ? info.size + 1 : 65536),
    );
    let n = 0;
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) return undefined;
        const bigger = new Uint8Array(Math.min(maxBytes + 1, n * 2));
        bigger.set(buf);
        buf = bigger;
      }
      const read = await file.read(buf.subarray(n));
      if (read === null) break;
      n += read;
    }
    return n > maxBytes ? undefined : buf.subarray(0, n);
  } finally {
    file.close();
  }
}
