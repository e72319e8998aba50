/**
 * Waiting, from inside a cell, until the Deno kernel has published the
 * cell's outputs: {@link flushOutputs}.
 *
 * Why: Deno's kernel (2.9) publishes outputs from a queue of its own while
 * it goes on with its requests. When a front end has queued several cells
 * (Run All), an output still in that queue when the cell ends is published
 * with the *next* cell's header, or after the cell was reported finished,
 * and the front end files it under the wrong cell or drops it. A cell that
 * awaits {@link flushOutputs} after its last output ends only once all of
 * them are out, under its own header.
 *
 * How: the kernel's IOPub channel is a ZeroMQ PUB socket on the loopback
 * address written in the kernel's connection file (the `--conn` argument of
 * this process). {@link flushOutputs} subscribes to it for a moment (ZMTP
 * 3.0, the NULL mechanism: a greeting, a READY command and a subscription),
 * broadcasts a `status: busy` message marked in its metadata (front ends
 * ignore a "busy" while the cell is busy anyway) and waits until that
 * message comes back: the kernel publishes in order, so everything the cell
 * sent before it has been published too.
 *
 * The encoding and parsing are pure and tested on their own; only
 * {@link flushOutputs} touches the network, and only inside the kernel.
 *
 * @example
 * ```ts
 * import { flushOutputs } from "./iopub.ts";
 * await Deno.jupyter.display({ "text/plain": "hello" }, { raw: true });
 * await flushOutputs(); // "hello" is published under this cell
 * ```
 *
 * @module
 */

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/**
 * The connection file named by a kernel's command line
 * (`deno jupyter --kernel --conn FILE`), as `/proc/self/cmdline` holds it:
 * arguments separated by NUL characters. `null` if there is none.
 *
 * @example
 * ```ts
 * import { connectionFileOf } from "./iopub.ts";
 * connectionFileOf("deno\0jupyter\0--kernel\0--conn\0/tmp/k.json\0"); // "/tmp/k.json"
 * ```
 */
export function connectionFileOf(cmdline: string): string | null {
  const args = cmdline.split("\0");
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--conn" && args[i + 1]) return args[i + 1];
    if (args[i].startsWith("--conn=")) return args[i].slice(7) || null;
  }
  return null;
}

/** Where a kernel's IOPub channel listens, read from its connection file. */
export interface IopubAddress {
  hostname: string;
  port: number;
}

/**
 * The IOPub address in a connection file's JSON text, or `null` if the
 * file does not describe a TCP kernel.
 *
 * @example
 * ```ts
 * import { iopubAddressOf } from "./iopub.ts";
 * iopubAddressOf('{"transport":"tcp","ip":"127.0.0.1","iopub_port":5}'); // { hostname: "127.0.0.1", port: 5 }
 * ```
 */
export function iopubAddressOf(json: string): IopubAddress | null {
  let info: unknown;
  try {
    info = JSON.parse(json);
  } catch {
    return null;
  }
  if (info === null || typeof info !== "object") return null;
  const { transport, ip, iopub_port } = info as Record<string, unknown>;
  if ((transport ?? "tcp") !== "tcp") return null;
  if (typeof ip !== "string" || !Number.isInteger(iopub_port)) return null;
  const hostname = ip === "0.0.0.0" || ip === "*" ? "127.0.0.1" : ip;
  return { hostname, port: iopub_port as number };
}

/**
 * The 64-byte ZMTP 3.0 greeting of a peer using the NULL mechanism, not as
 * server: signature `FF 00…00 7F`, version 3.0, mechanism `NULL`.
 *
 * @example
 * ```ts
 * import { zmtpGreeting } from "./iopub.ts";
 * zmtpGreeting().length; // 64
 * ```
 */
export function zmtpGreeting(): Uint8Array {
  const g = new Uint8Array(64);
  g[0] = 0xff;
  g[9] = 0x7f;
  g[10] = 3;
  g[11] = 0;
  g.set(ENCODER.encode("NULL"), 12);
  return g;
}

/**
 * One ZMTP frame: flags (more, long, command), size and body.
 *
 * @example
 * ```ts
 * import { zmtpFrame } from "./iopub.ts";
 * zmtpFrame(new Uint8Array([1])); // Uint8Array [0, 1, 1]: a subscription to everything
 * ```
 */
export function zmtpFrame(
  body: Uint8Array,
  options: { more?: boolean; command?: boolean } = {},
): Uint8Array {
  const long = body.length > 255;
  const head = long ? 9 : 2;
  const frame = new Uint8Array(head + body.length);
  frame[0] = (options.more ? 1 : 0) | (long ? 2 : 0) |
    (options.command ? 4 : 0);
  if (long) {
    new DataView(frame.buffer).setBigUint64(1, BigInt(body.length));
  } else {
    frame[1] = body.length;
  }
  frame.set(body, head);
  return frame;
}

/** The READY command of the NULL handshake, naming the socket type. */
export function zmtpReady(socketType: string): Uint8Array {
  const name = ENCODER.encode("READY");
  const key = ENCODER.encode("Socket-Type");
  const value = ENCODER.encode(socketType);
  const body = new Uint8Array(
    1 + name.length + 1 + key.length + 4 + value.length,
  );
  let at = 0;
  body[at++] = name.length;
  body.set(name, at);
  at += name.length;
  body[at++] = key.length;
  body.set(key, at);
  at += key.length;
  new DataView(body.buffer).setUint32(at, value.length);
  body.set(value, at + 4);
  return zmtpFrame(body, { command: true });
}

/**
 * A frame read by {@link ZmtpReader}: its flags and its body, or `null` in
 * place of a body longer than the reader keeps.
 */
export interface ZmtpReadFrame {
  more: boolean;
  command: boolean;
  size: number;
  body: Uint8Array | null;
}

/**
 * An incremental ZMTP frame parser: feed it bytes as they arrive, take
 * whole frames out. Bodies longer than `keep` bytes are skipped as they
 * stream past (never buffered), so memory stays bounded whatever a frame's
 * header says about its size.
 *
 * @example
 * ```ts
 * import { ZmtpReader } from "./iopub.ts";
 * const r = new ZmtpReader();
 * r.push(new Uint8Array([1, 2, 65, 66, 0, 0]));
 * r.frames(); // [{ more: true, …, body: "AB" }, { more: false, …, body: "" }]
 * ```
 */
export class ZmtpReader {
  #buffer = new Uint8Array(0);
  /** Bytes of an oversized body still to skip, and its frame. */
  #skipping = 0;
  #skipped: ZmtpReadFrame | null = null;
  #ready: ZmtpReadFrame[] = [];

  /** @param keep Longest body kept, in bytes (default 64 KiB). */
  constructor(readonly keep = 64 * 1024) {}

  /** Adds bytes read from the connection. */
  push(bytes: Uint8Array): void {
    let input = bytes;
    if (this.#skipping > 0) {
      const n = Math.min(this.#skipping, input.length);
      this.#skipping -= n;
      input = input.subarray(n);
      if (this.#skipping === 0 && this.#skipped) {
        this.#ready.push(this.#skipped);
        this.#skipped = null;
      }
      if (input.length === 0) return;
    }
    const all = new Uint8Array(this.#buffer.length + input.length);
    all.set(this.#buffer);
    all.set(input, this.#buffer.length);
    let at = 0;
    while (this.#skipping === 0 && all.length - at >= 2) {
      const flags = all[at];
      const long = (flags & 2) !== 0;
      const head = long ? 9 : 2;
      if (all.length - at < head) break;
      const size = long
        ? Number(new DataView(all.buffer, all.byteOffset + at + 1, 8)
          .getBigUint64(0))
        : all[at + 1];
      const frame: ZmtpReadFrame = {
        more: (flags & 1) !== 0,
        command: (flags & 4) !== 0,
        size,
        body: null,
      };
      if (size > this.keep) {
        const available = all.length - at - head;
        const n = Math.min(size, available);
        at += head + n;
        if (n === size) {
          this.#ready.push(frame);
        } else {
          this.#skipping = size - n;
          this.#skipped = frame;
        }
        continue;
      }
      if (all.length - at - head < size) break;
      frame.body = all.slice(at + head, at + head + size);
      this.#ready.push(frame);
      at += head + size;
    }
    this.#buffer = all.slice(at);
  }

  /** Takes the whole frames read so far. */
  frames(): ZmtpReadFrame[] {
    const out = this.#ready;
    this.#ready = [];
    return out;
  }
}

/** The metadata key {@link flushOutputs} marks its probe with. */
export const FLUSH_MARK = "fmnist_flush";

/**
 * The value of {@link FLUSH_MARK} in a Jupyter message's metadata, given
 * its frames (identities, `<IDS|MSG>`, signature, header, parent header,
 * metadata, content, buffers); null if it has none.
 *
 * @example
 * ```ts
 * import { flushMarkOf } from "./iopub.ts";
 * const f = (s: string) => new TextEncoder().encode(s);
 * flushMarkOf([f("<IDS|MSG>"), f(""), f("{}"), f("{}"), f('{"fmnist_flush":"x:0"}'), f("{}")]); // "x:0"
 * ```
 */
export function flushMarkOf(
  frames: Array<Uint8Array | null>,
): string | null {
  const delimiter = frames.findIndex((f) =>
    f !== null && DECODER.decode(f) === "<IDS|MSG>"
  );
  const metadata = delimiter < 0 ? null : frames[delimiter + 4];
  if (!metadata) return null;
  try {
    const mark = JSON.parse(DECODER.decode(metadata))?.[FLUSH_MARK];
    return typeof mark === "string" ? mark : null;
  } catch {
    return null;
  }
}

/** The IOPub address of the kernel this code runs in, or null. Cached. */
let kernelAddress: IopubAddress | null | undefined;

function ownKernelAddress(): IopubAddress | null {
  if (kernelAddress !== undefined) return kernelAddress;
  kernelAddress = null;
  try {
    const file = connectionFileOf(
      Deno.readTextFileSync("/proc/self/cmdline"),
    );
    if (file) kernelAddress = iopubAddressOf(Deno.readTextFileSync(file));
  } catch {
    // Not Linux, or not allowed to read: no address.
  }
  return kernelAddress;
}

function inKernel(): boolean {
  try {
    return typeof Deno.jupyter?.broadcast === "function";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Options of {@link flushOutputs}.
 *
 * @example
 * ```ts
 * import type { FlushOptions } from "./iopub.ts";
 * const o: FlushOptions = { timeoutMs: 5000 };
 * ```
 */
export interface FlushOptions {
  /** Give up after this long (default 15 s; a big output takes a moment). */
  timeoutMs?: number;
  /** Where the kernel's IOPub listens (default: read from this process). */
  address?: IopubAddress | null;
  /** Without an address: how long to wait instead (default 250 ms). */
  fallbackMs?: number;
  /**
   * How a probe is sent (default: the kernel's `Deno.jupyter.broadcast`);
   * given one, it probes outside the kernel too, as the tests do.
   */
  broadcast?: (
    msgType: string,
    content: Record<string, unknown>,
    extra: { metadata: Record<string, unknown> },
  ) => Promise<void>;
}

/**
 * Waits until the Deno kernel has published every output this cell sent so
 * far (displays, display updates, printed text). Await it after a cell's
 * last output, so the front end files them under this cell even when it
 * has more cells queued (Run All); `show` does. Resolves to `true` once
 * seen published, `false` if it could not tell (outside Jupyter it returns
 * at once; where the kernel's address cannot be read it waits
 * `fallbackMs`; after `timeoutMs` it gives up). Never throws.
 *
 * How: it subscribes to the kernel's IOPub channel and broadcasts `busy`
 * statuses marked with a numbered probe until one comes back — the kernel
 * publishes in order, so everything sent before it is out. It returns only
 * once the last probe it sent is out too: a probe still queued when the
 * cell ends would reach the front end after the cell's `idle`, and the
 * front end would show the kernel busy until the next cell runs.
 *
 * @example
 * ```ts
 * import { flushOutputs } from "./iopub.ts";
 * console.log("done");
 * await flushOutputs();
 * ```
 */
export async function flushOutputs(
  options: FlushOptions = {},
): Promise<boolean> {
  if (options.broadcast === undefined && !inKernel()) return true;
  const broadcast = options.broadcast ??
    ((type, content, extra) => Deno.jupyter.broadcast(type, content, extra));
  const address = options.address === undefined
    ? ownKernelAddress()
    : options.address;
  if (address === null) {
    await sleep(options.fallbackMs ?? 250);
    return false;
  }
  const deadline = performance.now() + (options.timeoutMs ?? 15_000);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ ...address, transport: "tcp" });
  } catch {
    await sleep(options.fallbackMs ?? 250);
    return false;
  }
  const base = `${crypto.randomUUID()}:`;
  const reader = new ZmtpReader();
  /** Probes broadcast so far, and the highest number seen come back. */
  let sent = 0;
  let highest = -1;
  const allOut = () => highest >= 0 && highest === sent - 1;
  let ended = false;
  let wake = () => {};
  // Reads until every probe sent has come back, or the connection ends.
  const reading = (async () => {
    const chunk = new Uint8Array(64 * 1024);
    let greeting = 0;
    let message: Array<Uint8Array | null> = [];
    try {
      while (!allOut()) {
        const n = await conn.read(chunk);
        if (n === null) break;
        let bytes = chunk.subarray(0, n);
        if (greeting < 64) {
          const g = Math.min(64 - greeting, bytes.length);
          greeting += g;
          bytes = bytes.subarray(g);
        }
        reader.push(bytes);
        for (const frame of reader.frames()) {
          if (frame.command) continue;
          message.push(frame.body);
          if (frame.more) continue;
          const mark = flushMarkOf(message);
          if (mark?.startsWith(base)) {
            highest = Math.max(highest, Number(mark.slice(base.length)));
            wake();
          }
          message = [];
        }
      }
    } catch {
      // closed under the read, or reset: nothing more to see
    } finally {
      ended = true;
      wake();
    }
  })();
  try {
    await conn.write(zmtpGreeting());
    await conn.write(zmtpReady("SUB"));
    // Subscribe to everything: a message of one byte, 1.
    await conn.write(zmtpFrame(new Uint8Array([1])));
    // The kernel starts sending to a subscriber a moment after it connects;
    // probes sent before that are not seen here, so probe until one is,
    // then wait for the last one sent.
    let wait = 20;
    while (!ended && !allOut() && performance.now() < deadline) {
      if (highest < 0) {
        const probe = `${base}${sent++}`;
        await broadcast(
          "status",
          { execution_state: "busy" },
          { metadata: { [FLUSH_MARK]: probe } },
        );
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, wait);
      });
      clearTimeout(timer);
      wait = Math.min(wait * 2, 500);
    }
  } catch {
    // the connection failed: report what was seen
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
    await reading;
  }
  return highest >= 0;
}
