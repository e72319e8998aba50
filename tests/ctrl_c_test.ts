/** Counting Ctrl-C presses: a signal repeated at once is the same press. */
import assert from "node:assert/strict";
import { pressCounter, SAME_PRESS_MS } from "../lib/cli/ctrl_c.ts";

Deno.test("pressCounter: presses counted 1, 2, 3; a signal within SAME_PRESS_MS of the last counted press is that press again", () => {
  let t = 1000;
  const press = pressCounter(() => t);
  assert.equal(press(), 1);
  t += 1;
  assert.equal(press(), null, "the same press, forwarded by deno task");
  t += SAME_PRESS_MS - 2;
  assert.equal(press(), null, "still within the window of the first");
  t += 1;
  assert.equal(press(), 2, "SAME_PRESS_MS after the first");
  t += SAME_PRESS_MS * 10;
  assert.equal(press(), 3);
});
