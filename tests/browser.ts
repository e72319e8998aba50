/**
 * Test helper (not a test): opens an HTML file in headless Chromium
 * (Debian's `/usr/bin/chromium`, driven by playwright-core) with every
 * network request blocked, waits for the plotly charts to draw, measures
 * them and writes a full-page screenshot.
 *
 * Run as its own process, because playwright-core under Deno needs
 * `--allow-all` (it probes `/proc/sys/fs/binfmt_misc/WSLInterop`, which Deno
 * grants only with all permissions) and the test suite runs with narrower
 * ones:
 *
 *     deno run -A tests/browser.ts PAGE.html SHOT.png   # prints a PageReport as JSON
 */
import { type Browser, chromium } from "playwright-core";
import { toFileUrl } from "./paths.ts";

/** What one chart `<div>` holds once drawn. */
export interface ChartReport {
  id: string;
  /** plotly's `svg.main-svg` elements. */
  svgs: number;
  /** Width and height of the first of them, in CSS pixels. */
  width: number;
  height: number;
  /** Traces drawn: `g.trace` (lines, bars) and `g.hm` (heatmaps). */
  traces: number;
  /** Marks with content: paths with a non-empty `d`, heatmap images. */
  marks: number;
}

export interface PageReport {
  charts: ChartReport[];
  /** Requests that were blocked (anything but file:, data:, blob:, about:). */
  blocked: string[];
  /** Uncaught page errors. */
  errors: string[];
  /** Number of `<img>` elements that loaded a picture. */
  images: number;
}

export const CHROMIUM = "/usr/bin/chromium";

/** Debian's Chromium, headless, with nothing reaching out on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

// The callbacks passed to page.evaluate run in the page, where this exists.
// deno-lint-ignore no-explicit-any
declare const document: any;

/** Renders `htmlPath` offline, waits for every `.fmnist-chart` to be drawn, screenshots it to `screenshotPath`. */
export async function renderOffline(
  htmlPath: string,
  screenshotPath: string,
  timeoutMs = 60_000,
): Promise<PageReport> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
    });
    const blocked: string[] = [];
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (/^(file|data|blob|about):/.test(url)) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    await page.goto(toFileUrl(htmlPath), { waitUntil: "load" });
    await page.waitForFunction(
      () => {
        const charts = [...document.querySelectorAll(".fmnist-chart")];
        return charts.length > 0 &&
          charts.every((c) => c.querySelector("svg.main-svg") !== null);
      },
      undefined,
      { timeout: timeoutMs },
    ).catch(() => {/* reported below as undrawn charts */});
    // Let plotly finish its layout pass before measuring and shooting.
    await page.waitForTimeout(500);
    const measured = await page.evaluate(() => {
      const charts = [...document.querySelectorAll(".fmnist-chart")].map(
        (c) => {
          const svgs = c.querySelectorAll("svg.main-svg");
          const box = svgs[0]?.getBoundingClientRect();
          const paths = [...c.querySelectorAll("g.trace path, g.hm image")]
            .filter((el) =>
              el.tagName.toLowerCase() === "image"
                ? (el.getAttribute("href") ?? el.getAttribute("xlink:href") ??
                  "")
                  .length > 0
                : (el.getAttribute("d") ?? "").replace(/[MZ0-9,.\s-]/gi, "")
                      .length > 0 ||
                  (el.getAttribute("d") ?? "").length > 8
            );
          return {
            id: c.id,
            svgs: svgs.length,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
            traces: c.querySelectorAll("g.trace, g.hm").length,
            marks: paths.length,
          };
        },
      );
      const images = [...document.querySelectorAll("img")].filter((i) =>
        i.complete && i.naturalWidth > 0
      ).length;
      return { charts, images };
    });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return { ...measured, blocked, errors };
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  const [html, shot] = Deno.args;
  console.log(JSON.stringify(await renderOffline(html, shot)));
}
