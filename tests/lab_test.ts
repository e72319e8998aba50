/**
 * `deno task lab`: the kernel spec goes into the project, Jupyter starts on
 * 127.0.0.1 in notebooks/ with it, the printed address answers, and a
 * SIGTERM (as Ctrl-C) stops the server; a port asked for and in use is refused.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "./paths.ts";
import { jupyterUrl } from "../lib/cli/lab.ts";

/** `deno task lab`'s own `deno run` arguments, from deno.json. */
const LAB_ARGS: string[] = (() => {
  const task: string = JSON.parse(
    Deno.readTextFileSync(join(ROOT, "deno.json")),
  ).tasks.lab;
  return task.slice(task.indexOf("deno run ") + "deno ".length).split(" ");
})();

/** `deno task lab --port PORT` as the task runs it, output piped. */
function labOn(port: number): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [...LAB_ARGS, "--port", String(port)],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

/** A port nothing listens on now. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("jupyterUrl finds the address with its token in Jupyter's log", () => {
  assert.equal(
    jupyterUrl("     or http://127.0.0.1:8890/?token=0a1b2c3d"),
    "http://127.0.0.1:8890/?token=0a1b2c3d",
  );
  assert.equal(
    jupyterUrl("[I 10:00:00 ServerApp] http://127.0.0.1:8888/lab?token=ff"),
    "http://127.0.0.1:8888/lab?token=ff",
  );
  assert.equal(jupyterUrl("http://localhost:8888/?token=ff"), null);
  assert.equal(jupyterUrl("[I 10:00:00 NotebookApp] Serving notebooks"), null);
});

Deno.test("deno task lab serves the notebooks with the project's Deno kernel on 127.0.0.1", async () => {
  const port = freePort();
  const child = labOn(port).spawn();
  let stdout = "";
  let url: string | null = null;
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  try {
    const deadline = Date.now() + 60_000;
    while (url === null && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += value;
      url = stdout.match(/Open the notebooks at (\S+)/)?.[1] ?? null;
    }
    assert.ok(url !== null, `no address printed:\n${stdout}`);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+$/);
    assert.match(
      stdout,
      /kernel: Deno \d+\.\d+\.\d+ \(spec in .*out\/jupyter\//,
    );
    const base = url.slice(0, url.indexOf("?"));
    const token = url.slice(url.indexOf("=") + 1);
    const api = (path: string) =>
      fetch(`${base}${path}`, { headers: { Authorization: `token ${token}` } })
        .then((r) => r.json());
    const specs = await api("api/kernelspecs");
    const deno = specs.kernelspecs.deno;
    assert.ok(deno, "the Deno kernel is offered");
    assert.equal(deno.spec.display_name, "Deno");
    assert.equal(deno.spec.argv[0], Deno.execPath(), "this very Deno");
    const contents = await api("api/contents");
    const names = contents.content.map((c: { name: string }) => c.name);
    for (const nb of ["01-data.ipynb", "03-train.ipynb", "05-your-own.ipynb"]) {
      assert.ok(names.includes(nb), `${nb} is served from notebooks/`);
    }
    const kernel = JSON.parse(
      await Deno.readTextFile(
        join(
          ROOT,
          "out",
          "jupyter",
          "data",
          "jupyter",
          "kernels",
          "deno",
          "kernel.json",
        ),
      ),
    );
    assert.equal(kernel.argv[0], Deno.execPath());
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await reader.cancel().catch(() => {});
    const err = await stderr;
    assert.equal(status.code, 0, err);
  }
  // The server is gone with it.
  await assert.rejects(() => fetch(`http://127.0.0.1:${port}/`));
});

Deno.test("deno task lab --port N refuses a port in use with one sentence, instead of moving to another", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const out = await labOn(port).output();
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
    assert.equal(out.code, 2, stderr.join("\n"));
    assert.equal(
      stderr.at(-1),
      `error: port ${port} is in use; choose another with --port, or leave --port out to take the next free one from 8888.`,
    );
  } finally {
    taken.close();
  }
});
