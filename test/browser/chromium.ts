// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by
// scripts/setup-browser.sh on `npm ci`), driven by playwright-core. Never a browser build of
// Playwright's own: the project's machines cannot download one.
//
// Also the keyboard helpers: a person who cannot use a mouse moves with Tab and presses
// Enter or Space. These helpers only ever send key presses; nothing here clicks, calls
// element.click() or form.submit(), so a test that passes proves the page works by keyboard.

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { projectRoot } from "../e2e/server.ts";

export const CHROMIUM = "/usr/bin/chromium";

/**
 * Without the background-networking flags Chromium keeps trying to reach update, sync and
 * safe-browsing servers, which a closed network turns into stalls; QUIC and the GPU are off
 * for the same reason (nothing to reach, no display). Root needs --no-sandbox. Playwright's
 * launch() gives every browser a fresh temporary profile (its --user-data-dir), so no cookie
 * or saved password leaks between runs.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

/** Bounded waits everywhere: a hung page fails the test instead of the whole run. */
export const ACTION_TIMEOUT_MS = 30_000;

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing. The browser tests drive Debian's chromium package, which \`npm ci\` installs ` +
        "(scripts/setup-browser.sh, as root or with passwordless sudo): run `sh scripts/setup-browser.sh`.",
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS], timeout: 60_000 });
}

/** A fresh context (no cookies) and page with bounded timeouts. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 800, height: 900 } });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  return context.newPage();
}

/** Runs `body` on a fresh page (no cookies) and closes its context whatever happens. */
export async function withPage<T>(browser: Browser, body: (page: Page) => Promise<T>): Promise<T> {
  const page = await newPage(browser);
  try {
    return await body(page);
  } finally {
    await page.context().close();
  }
}

export const SCREENSHOT_DIR = join(projectRoot, "test-output", "screenshots");

/**
 * Saves the whole page as test-output/screenshots/<name>.png and returns the path. `secrets`
 * are painted over (a TOTP key, recovery codes): test output is kept and shared, and a
 * secret does not belong in it even from a throwaway account.
 */
export async function screenshot(page: Page, name: string, secrets: readonly Locator[] = []): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, mask: [...secrets], maskColor: "#7a3bd1" });
  return path;
}

export const isFocused = (locator: Locator) => locator.evaluate((el) => el === document.activeElement);

/** What has focus now, for failure messages: `input#email`, `a#signup-link`, `button "Allow"`. */
export const focusedDescription = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return "(nothing: body)";
    const id = el.id ? `#${el.id}` : "";
    const text = el.textContent?.trim().slice(0, 40) ?? "";
    return `${el.tagName.toLowerCase()}${id}${text ? ` "${text}"` : ""}`;
  });

/**
 * Presses Tab (at most `maxTabs` times) until `target` has focus, and returns how many
 * presses it took. Fails if Tab never reaches it: then a keyboard user cannot either.
 */
export async function tabTo(page: Page, target: Locator, maxTabs = 25): Promise<number> {
  for (let presses = 0; presses <= maxTabs; presses++) {
    if (await isFocused(target)) return presses;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab did not reach ${target} within ${maxTabs} presses; focus is on ${await focusedDescription(page)}`);
}

/** The focused element's accessible label text (via its <label for>), for the keyboard tests. */
export const focusedLabel = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!(el instanceof HTMLInputElement)) return null;
    return [...(el.labels ?? [])].map((l) => l.textContent?.trim() ?? "").join(" ") || null;
  });
