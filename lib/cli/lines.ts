/**
 * The lines of a child process's output as they come.
 *
 * @example
 * ```ts
 * import { lines } from "./lines.ts";
 * const stream = new Response("a\nb\nc").body!;
 * const got: string[] = [];
 * for await (const line of lines(stream)) got.push(line);
 * got; // ["a", "b", "c"]
 * ```
 *
 * @module
 */

/**
 * Lines of a byte stream (UTF-8), without their line ends; a last line
 * without one comes too.
 *
 * @example
 * ```ts
 * import { lines } from "./lines.ts";
 * declare const child: Deno.ChildProcess;
 * for await (const line of lines(child.stderr)) console.log(line);
 * ```
 */
export async function* lines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      yield rest.slice(0, nl);
      rest = rest.slice(nl + 1);
    }
  }
  if (rest !== "") yield rest;
}
