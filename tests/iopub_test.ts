/**
 * The pieces of `flushOutputs` that need no kernel: the connection file
 * from the command line, the IOPub address, the ZMTP frames a subscriber
 * sends, the incremental reader (bounded whatever a frame claims), and the
 * probe's mark. tests/kernel_test.ts runs the whole in a real kernel.
 */
import assert from "node:assert/strict";
import {
  connectionFileOf,
  FLUSH_MARK,
  flushMarkOf,
  flushOutputs,
  iopubAddressOf,
  zmtpFrame,
  zmtpGreeting,
  ZmtpReader,
  zmtpReady,
} from "../lib/iopub.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => b && new TextDecoder().decode(b);

Deno.test("connectionFileOf finds --conn in a NUL-separated command line", () => {
  assert.equal(
    connectionFileOf(
      "/usr/bin/deno\0jupyter\0--kernel\0--conn\0/run/k-1.json\0",
    ),
    "/run/k-1.json",
  );
  assert.equal(
    connectionFileOf("deno\0jupyter\0--conn=/a b.json\0"),
    "/a b.json",
  );
  assert.equal(connectionFileOf("deno\0run\0x.ts\0"), null);
  assert.equal(connectionFileOf("deno\0jupyter\0--conn\0"), null);
});

Deno.test("iopubAddressOf reads TCP kernels and refuses anything else", () => {
  const info = {
    transport: "tcp",
    ip: "127.0.0.1",
    iopub_port: 51234,
    shell_port: 1,
    key: "k",
  };
  assert.deepEqual(iopubAddressOf(JSON.stringify(info)), {
    hostname: "127.0.0.1",
    port: 51234,
  });
  assert.deepEqual(
    iopubAddressOf(JSON.stringify({ ...info, ip: "0.0.0.0" })),
    { hostname: "127.0.0.1", port: 51234 },
  );
  assert.equal(
    iopubAddressOf(JSON.stringify({ ...info, transport: "ipc" })),
    null,
  );
  assert.equal(
    iopubAddressOf(JSON.stringify({ ...info, iopub_port: "1" })),
    null,
  );
  assert.equal(iopubAddressOf("not json"), null);
  assert.equal(iopubAddressOf("null"), null);
});

Deno.test("ZMTP: greeting, frames and the READY command, byte for byte", () => {
  const g = zmtpGreeting();
  assert.equal(g.length, 64);
  assert.deepEqual([...g.subarray(0, 12)], [
    0xff,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x7f,
    3,
    0,
  ]);
  assert.equal(text(g.subarray(12, 16)), "NULL");
  assert.ok(
    g.subarray(16).every((b) => b === 0),
    "padding, as-server 0, filler",
  );

  assert.deepEqual([...zmtpFrame(new Uint8Array([1]))], [0, 1, 1]);
  assert.deepEqual([...zmtpFrame(bytes("ab"), { more: true })], [1, 2, 97, 98]);
  const long = zmtpFrame(new Uint8Array(300), { command: true });
  assert.deepEqual([...long.subarray(0, 9)], [6, 0, 0, 0, 0, 0, 0, 1, 44]);
  assert.equal(long.length, 309);

  const ready = zmtpReady("SUB");
  // flags 4 (command), size, then "\x05READY" and Socket-Type = SUB.
  assert.deepEqual([...ready.subarray(0, 2)], [4, 1 + 5 + 1 + 11 + 4 + 3]);
  assert.equal(ready[2], 5);
  assert.equal(text(ready.subarray(3, 8)), "READY");
  assert.equal(ready[8], 11);
  assert.equal(text(ready.subarray(9, 20)), "Socket-Type");
  assert.deepEqual([...ready.subarray(20, 24)], [0, 0, 0, 3]);
  assert.equal(text(ready.subarray(24)), "SUB");
});

Deno.test("ZmtpReader: frames split anywhere come out whole and in order", () => {
  const stream = new Uint8Array([
    ...zmtpFrame(bytes("<IDS|MSG>"), { more: true }),
    ...zmtpFrame(bytes("x".repeat(1000)), { more: true }),
    ...zmtpFrame(new Uint8Array(0)),
    ...zmtpReady("PUB"),
  ]);
  for (const step of [1, 2, 3, 7, 64, stream.length]) {
    const r = new ZmtpReader();
    const got = [];
    for (let i = 0; i < stream.length; i += step) {
      r.push(stream.subarray(i, i + step));
      got.push(...r.frames());
    }
    assert.deepEqual(
      got.map((f) => [f.more, f.command, f.size, text(f.body)?.slice(0, 9)]),
      [
        [true, false, 9, "<IDS|MSG>"],
        [true, false, 1000, "xxxxxxxxx"],
        [false, false, 0, ""],
        [false, true, 25, "\x05READY\x0bSo"],
      ],
      `step ${step}`,
    );
  }
});

Deno.test("ZmtpReader: a body over the limit is skipped as it streams, never buffered", () => {
  const r = new ZmtpReader(16);
  const big = zmtpFrame(new Uint8Array(100_000).fill(7), { more: true });
  const after = zmtpFrame(bytes("after"));
  // Arrives in 1000-byte pieces: no piece may be kept.
  for (let i = 0; i < big.length; i += 1000) {
    r.push(big.subarray(i, i + 1000));
  }
  r.push(after);
  const frames = r.frames();
  assert.deepEqual(
    frames.map((f) => [f.size, f.body === null ? null : text(f.body)]),
    [[100_000, null], [5, "after"]],
  );
  // A header claiming 2^62 bytes costs nothing either.
  const hostile = new Uint8Array(9);
  hostile[0] = 2;
  new DataView(hostile.buffer).setBigUint64(1, 1n << 62n);
  const h = new ZmtpReader();
  h.push(hostile);
  h.push(new Uint8Array(1 << 20));
  assert.deepEqual(h.frames(), []);
});

Deno.test("flushMarkOf: the probe's mark in a message's metadata, else null", () => {
  const msg = (metadata: string) => [
    bytes("<IDS|MSG>"),
    bytes("sig"),
    bytes('{"msg_type":"status"}'),
    bytes("{}"),
    bytes(metadata),
    bytes('{"execution_state":"busy"}'),
  ];
  assert.equal(
    flushMarkOf(msg(JSON.stringify({ [FLUSH_MARK]: "m:1" }))),
    "m:1",
  );
  assert.equal(flushMarkOf(msg("{}")), null);
  assert.equal(flushMarkOf(msg("not json")), null);
  assert.equal(flushMarkOf(msg(JSON.stringify({ [FLUSH_MARK]: 7 }))), null);
  assert.equal(flushMarkOf(msg("null")), null);
  // Identities before the delimiter are skipped; a skipped metadata is no mark.
  assert.equal(
    flushMarkOf([bytes("id"), ...msg(`{"${FLUSH_MARK}":"m:2"}`)]),
    "m:2",
  );
  const skipped: Array<Uint8Array | null> = msg(`{"${FLUSH_MARK}":"m:1"}`);
  skipped[4] = null;
  assert.equal(flushMarkOf(skipped), null);
  assert.equal(flushMarkOf([bytes("no delimiter")]), null);
});

Deno.test("flushOutputs outside the kernel returns at once", async () => {
  const t0 = performance.now();
  assert.equal(await flushOutputs(), true);
  assert.ok(performance.now() - t0 < 50);
});

/**
 * A kernel's IOPub for one subscriber, with a slow queue: what is
 * broadcast goes out in order, one message every `gapMs` (as behind a big
 * output). Counts what was broadcast and not yet published.
 */
function slowPublisher(gapMs: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const queue: string[] = [];
  let broadcasts = 0;
  let stopped = false;
  const frame = (s: string, more: boolean) => zmtpFrame(bytes(s), { more });
  const serving = (async () => {
    const conn = await listener.accept();
    await conn.write(zmtpGreeting());
    // What the subscriber sends (greeting, READY, subscription) is read
    // and ignored.
    const draining = (async () => {
      const b = new Uint8Array(1024);
      try {
        while (await conn.read(b) !== null) { /* ignored */ }
      } catch {
        // closed
      }
    })();
    try {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, gapMs));
        const mark = queue.shift();
        if (mark === undefined) continue;
        const parts = [
          "<IDS|MSG>",
          "sig",
          '{"msg_type":"status"}',
          "{}",
          JSON.stringify({ [FLUSH_MARK]: mark }),
          '{"execution_state":"busy"}',
        ];
        for (const [i, p] of parts.entries()) {
          await conn.write(frame(p, i < parts.length - 1));
        }
      }
    } catch {
      // the subscriber left
    }
    conn.close();
    await draining;
  })();
  return {
    address: {
      hostname: "127.0.0.1",
      port: (listener.addr as Deno.NetAddr).port,
    },
    broadcast: (
      _type: string,
      _content: Record<string, unknown>,
      extra: { metadata: Record<string, unknown> },
    ) => {
      broadcasts++;
      queue.push(String(extra.metadata[FLUSH_MARK]));
      return Promise.resolve();
    },
    queued: () => queue.length,
    broadcasts: () => broadcasts,
    async close() {
      stopped = true;
      listener.close();
      await serving;
    },
  };
}

Deno.test("flushOutputs returns once every probe it sent is out: none comes after the cell's idle", async () => {
  const kernel = slowPublisher(80);
  const seen = await flushOutputs({
    address: kernel.address,
    broadcast: kernel.broadcast,
    timeoutMs: 10_000,
  });
  const left = kernel.queued();
  await kernel.close();
  assert.equal(seen, true);
  // The first probe took 80 ms to come back, so it probed more than once.
  assert.ok(kernel.broadcasts() >= 2, `${kernel.broadcasts()} probes`);
  assert.equal(left, 0, "probes not yet published when it returned");
});
