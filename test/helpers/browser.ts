/**
 * Opens an HTML file in headless Chromium (Debian's `chromium`, driven by playwright-core; no
 * browser is ever downloaded) with every request intercepted: only file: and data: URLs load,
 * anything else is aborted and recorded. Reports each plotly figure's rendering, page errors
 * and blocked requests.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.SWITCHYARD_CHROMIUM ?? '/usr/bin/chromium';

/** What one plot div showed once plotly had drawn. */
export interface PlotState {
  id: string;
  /** plotly drew into the div (`.js-plotly-plot` with a `.main-svg`). */
  drawn: boolean;
  /** Visible traces in the figure's data. */
  traces: number;
  /** Trace groups plotly put in the SVG (scatter/bar `g.trace`, heatmap `g.hm`). */
  drawnTraces: number;
  /** Text in the div when plotly did not draw (e.g. the "plotly.js is not loaded" note). */
  text: string;
}

export interface PageCheck {
  plots: PlotState[];
  pageErrors: string[];
  /** Requests to anything but file: and data: URLs (all aborted). */
  blocked: string[];
  /** file: requests that failed (e.g. Debian's optional require.js/MathJax links in nbconvert's template). */
  failedFiles: string[];
}

/** Throws naming the package to install when Debian's chromium is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the page tests need Debian's chromium (sudo apt-get install chromium), or SWITCHYARD_CHROMIUM=/path/to/chromium`);
  }
}

/** Starts headless Chromium with a fresh profile (playwright makes and removes one per launch). */
export async function launchChromium(): Promise<Browser> {
  requireChromium();
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Loads `file`, waits until every `.switchyard-plot` div is drawn or `timeoutMs` passes, and
 * reports. `screenshot`: also save a full-page PNG there.
 */
export async function checkPage(browser: Browser, file: string, opts: { timeoutMs?: number; screenshot?: string } = {}): Promise<PageCheck> {
  const context = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const out: PageCheck = { plots: [], pageErrors: [], blocked: [], failedFiles: [] };
  page.on('pageerror', (err) => out.pageErrors.push(err.message));
  page.on('requestfailed', (req) => {
    if (req.url().startsWith('file:')) out.failedFiles.push(req.url());
  });
  page.on('websocket', (ws) => out.blocked.push(ws.url()));
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    out.blocked.push(url);
    return route.abort('blockedbyclient');
  });
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: opts.timeoutMs ?? 60_000 });
    await page
      .waitForFunction(
        () => [...document.querySelectorAll('.switchyard-plot')].every((el) => el.querySelector('.main-svg') !== null),
        undefined,
        { timeout: opts.timeoutMs ?? 30_000, polling: 200 },
      )
      .catch(() => undefined); // reported per plot below
    out.plots = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('.switchyard-plot')].map((el) => {
        const data = ((el as unknown as { data?: { visible?: unknown }[] }).data ?? []).filter((t) => t.visible !== false);
        return {
          id: el.id,
          drawn: el.classList.contains('js-plotly-plot') && el.querySelector('.main-svg') !== null,
          traces: data.length,
          drawnTraces: el.querySelectorAll('g.trace, g.hm').length,
          text: el.querySelector('.main-svg') ? '' : (el.textContent ?? '').slice(0, 200),
        };
      }),
    );
    if (opts.screenshot) await page.screenshot({ path: opts.screenshot, fullPage: true });
  } finally {
    await context.close();
  }
  return out;
}
