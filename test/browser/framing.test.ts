// Another origin's pages against Warden, as a browser sees them.
//
// Clickjacking (RFC 6749 §10.13, RFC 9700 §4.16): a page on another
// origin (the loopback app's port, a different origin from Warden's) puts Warden's pages in an
// iframe. Chromium must refuse to render them (CSP `frame-ancestors 'none'`, X-Frame-Options:
// DENY), while the same framing page's control frame from its own origin renders, which
// shows the check can see a frame that did render.

import type { Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newPage, screenshot } from "./chromium.ts";
import { newAuthorization, randomEmail, randomPassword, startStack, type Stack } from "./harness.ts";
import { consentHeading, openAuthorization, pressButton, signUpByKeyboard } from "./keyboard.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack("browser-framing");
});

afterAll(async () => {
  await stack?.close();
});

/** The text a frame shows, or "" when Chromium replaced it with its blocked-frame error page. */
async function frameText(frame: Frame): Promise<string> {
  if (frame.url().startsWith("chrome-error:")) return "";
  return frame.evaluate(() => document.body?.innerText ?? "").catch(() => "");
}

async function frameWarden(target: string, shot: string) {
  const page: Page = await newPage(stack.browser);
  const blocked: string[] = [];
  page.on("console", (m) => {
    if (/frame-ancestors|X-Frame-Options/i.test(m.text())) blocked.push(m.text());
  });
  const wardenResponses: number[] = [];
  page.on("response", (r) => {
    if (r.url() === target) wardenResponses.push(r.status());
  });
  try {
    await page.goto(stack.app.framerUrl(target));
    const control = page.frame({ name: "control" });
    const victim = page.frame({ name: "victim" });
    if (!control || !victim) throw new Error("framing page has no frames");
    await control.locator("#control-content").waitFor();
    // The victim frame's document was fetched (so the check is not vacuous) and then blocked.
    await expect.poll(() => wardenResponses.length, { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => victim.url(), { timeout: 10_000 }).not.toBe("about:blank");
    await screenshot(page, shot);
    return { page, control: await frameText(control), victim: await frameText(victim), victimUrl: victim.url(), blocked };
  } finally {
    await page.context().close();
  }
}

describe("RFC 6749 §10.13 clickjacking: Warden's pages do not render inside another origin's frame", () => {
  it("the sign-in page reached through /authorize is not rendered in a cross-origin iframe", async () => {
    const auth = await newAuthorization(stack);
    const seen = await frameWarden(auth.url.href, "12-framing-attempt-authorize");
    expect(seen.control).toContain("This frame is allowed to render.");
    expect(seen.victim).not.toMatch(/sign in|password/i);
    expect(seen.victimUrl).toMatch(/^chrome-error:/);
    expect(seen.blocked.join("\n")).toMatch(/frame-ancestors|X-Frame-Options/i);
  });

  it("the sign-up page is not rendered in a cross-origin iframe", async () => {
    const seen = await frameWarden(`${stack.server.origin}/signup`, "13-framing-attempt-signup");
    expect(seen.control).toContain("This frame is allowed to render.");
    expect(seen.victim).not.toMatch(/create|password/i);
    expect(seen.victimUrl).toMatch(/^chrome-error:/);
  });
});

describe("RFC 6749 §10.12 CSRF: a form on another origin cannot sign a browser in (login CSRF)", () => {
  it("the attacker's form posting to /login with valid credentials and a valid request ticket is refused with 403, and no session cookie is set", async () => {
    // The attacker's own account, and a real ticket from a sign-in page they opened themselves.
    const attacker = { email: randomEmail("attacker"), password: randomPassword() };
    const ticket = await (async () => {
      const page = await newPage(stack.browser);
      try {
        await openAuthorization(page, (await newAuthorization(stack)).url);
        const request = await page.locator("input[name=request]").getAttribute("value");
        await signUpByKeyboard(page, attacker.email, attacker.password);
        await consentHeading(page).waitFor();
        return request ?? "";
      } finally {
        await page.context().close();
      }
    })();
    expect(ticket).not.toBe("");

    const page = await newPage(stack.browser);
    try {
      await page.goto(stack.app.crossSiteFormUrl(`${stack.server.origin}/login`, { request: ticket, ...attacker }));
      const answer = page.waitForResponse((r) => r.url() === `${stack.server.origin}/login` && r.request().method() === "POST");
      await pressButton(page, "Claim it");
      const response = await answer;
      expect(response.status()).toBe(403);
      expect(await response.request().headerValue("sec-fetch-site"), "Chromium labels the post").not.toBe("same-origin");
      await page.getByRole("heading", { name: "Request refused" }).waitFor();
      await screenshot(page, "15-cross-site-login-refused");
      expect(await page.context().cookies(stack.server.origin)).toEqual([]);
      expect(await page.locator("input[type=password]").count()).toBe(0);
    } finally {
      await page.context().close();
    }
  });
});
