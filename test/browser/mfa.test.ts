// TOTP second factor (RFC 6238) in headless Chromium, by keyboard only: a person turns it on
// in the security settings (reads the key off the page, as they would type it into an
// authenticator app), saves the recovery codes, then signs in to an OAuth client with the
// password and a code, and once with a recovery code. Codes come from test/browser/totp.ts,
// written from the RFCs and independent of the server's src/totp.ts.

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { focusedLabel, screenshot, tabTo, withPage as withBrowserPage } from "./chromium.ts";
import { newAuthorization, randomEmail, randomPassword, redeemCode, startStack, whoami, type Stack } from "./harness.ts";
import { answerConsentByKeyboard, consentHeading, openAuthorization, pressButton, signInByKeyboard, signUpByKeyboard } from "./keyboard.ts";
import { formsView } from "./password-manager.ts";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { decodeBase32, freshTotp, hotp, totp, totpAfter } from "./totp.ts";

describe("RFC 6238 Appendix B / RFC 4226 Appendix D: the test's own authenticator computes the published codes", () => {
  // The RFC's SHA-1 seed is the ASCII string "12345678901234567890".
  const key = decodeBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  it("HOTP values for counters 0..9 match RFC 4226 Appendix D", () => {
    const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
    expect(expected.map((_, i) => hotp(key, i))).toEqual(expected);
  });
  it("TOTP (SHA-1, 8 digits) at the RFC 6238 Appendix B times matches the table", () => {
    const table: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    expect(table.map(([t]) => totp(key, t * 1000, 8))).toEqual(table.map(([, code]) => code));
  });
});

let stack: Stack;
const person = { email: randomEmail("mfa"), password: randomPassword() };
/** Filled by enrollment, used by the sign-ins after it. */
let secret: Buffer | undefined;
let lastUsedStep = 0;
let recoveryCodes: string[] = [];

/** Decodes a screenshot of a QR code as a phone's reader would (the image stays in memory). */
function scanQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

beforeAll(async () => {
  stack = await startStack("browser-mfa");
});

afterAll(async () => {
  await stack?.close();
});

/** A fresh page in this file's browser, closed whatever happens. */
const withPage = <T>(body: (page: Page) => Promise<T>) => withBrowserPage(stack.browser, body);

/** Types into the field labelled `label` after Tab reaches it. */
async function typeCode(page: Page, label: string, code: string) {
  await tabTo(page, page.getByLabel(label, { exact: true }));
  await page.keyboard.type(code);
}

describe("RFC 6238 TOTP enrollment in the security settings, by keyboard only", () => {
  it("a person turns on two-step verification: key shown as a scannable QR code and as text, first code confirms it, recovery codes shown once", async () => {
    // An account to protect, made the ordinary way.
    await withPage(async (page) => {
      await openAuthorization(page, (await newAuthorization(stack)).url);
      await signUpByKeyboard(page, person.email, person.password);
      await consentHeading(page).waitFor();
    });

    await withPage(async (page) => {
      await page.goto(`${stack.server.origin}/account/security`);
      await page.getByRole("heading", { name: "Sign in to manage your security settings" }).waitFor();
      await screenshot(page, "20-security-sign-in");
      // A password manager sees an ordinary sign-in form: username, then current-password.
      const signInView = await formsView(page);
      expect(signInView.forms.map((f) => [f.method, new URL(f.action).origin, f.fields.map((x) => `${x.type}:${x.autocomplete}`)])).toEqual([
        ["post", signInView.origin, ["email:username", "password:current-password"]],
      ]);
      await signInByKeyboard(page, person.email, person.password);
      await page.locator("#mfa-status").waitFor();
      expect(await page.locator("#mfa-status").innerText()).toMatch(/\boff\b/);
      await screenshot(page, "21-security-settings-mfa-off");

      await pressButton(page, "Set up an authenticator app");
      await page.getByRole("heading", { name: "Set up your authenticator app" }).waitFor();
      const shownKey = await page.locator("#totp-secret").innerText();
      const uriText = await page.locator("#otpauth-uri").innerText();
      const uri = new URL(uriText);
      expect(uri.protocol).toBe("otpauth:");
      expect(uri.searchParams.get("secret")?.toUpperCase()).toBe(shownKey.replace(/\s/g, "").toUpperCase());
      secret = decodeBase32(shownKey);
      expect(secret.length, "RFC 4226 §4 R6: at least 128-bit keys").toBeGreaterThanOrEqual(16);
      // What a phone's camera sees: the rendered QR code, decoded by a QR reader, is the same URI.
      const qr = page.getByRole("img", { name: "QR code with the key for your authenticator app" });
      expect(await scanQr(await qr.screenshot())).toBe(uriText);
      await screenshot(page, "22-mfa-enroll", [page.locator("#totp-secret"), page.locator("#otpauth-uri"), page.locator("#otpauth-qr")]);

      const code = page.getByLabel("Code from your authenticator app", { exact: true });
      expect(await code.getAttribute("autocomplete")).toBe("one-time-code");
      expect(await code.getAttribute("inputmode")).toBe("numeric");
      const first = await freshTotp(secret);
      await typeCode(page, "Code from your authenticator app", first.code);
      lastUsedStep = first.step;
      await page.keyboard.press("Enter");

      await page.locator("#recovery-codes").waitFor();
      recoveryCodes = (await page.locator("#recovery-codes code").allInnerTexts()).map((c) => c.trim());
      expect(recoveryCodes.length).toBeGreaterThanOrEqual(8);
      expect(new Set(recoveryCodes).size).toBe(recoveryCodes.length);
      await screenshot(page, "23-mfa-recovery-codes", [page.locator("#recovery-codes")]);
      await pressButton(page, "I saved them");
      await page.locator("#mfa-status").waitFor();
      expect(await page.locator("#mfa-status").innerText()).toMatch(/\bon\b/);
      await screenshot(page, "24-security-settings-mfa-on");
      // The password change form names the account (username) beside current- and new-password,
      // so a password manager knows which saved entry to update.
      const settings = await formsView(page);
      const change = settings.forms.filter((f) => f.fields.some((x) => x.autocomplete === "new-password"));
      expect(change.map((f) => f.fields.map((x) => `${x.type}:${x.autocomplete}`))).toEqual([
        ["email:username", "password:current-password", "password:new-password"],
      ]);
      expect(settings.passwordFieldsOutsideForms).toBe(0);
    });
  });
});

describe("RFC 6238 second factor during an OAuth sign-in, by keyboard only", () => {
  /** Password first, then the second-factor page must come up. */
  async function toSecondFactor(page: Page) {
    const auth = await newAuthorization(stack);
    await openAuthorization(page, auth.url);
    await signInByKeyboard(page, person.email, person.password);
    await page.locator("#totp-form").waitFor();
    return auth;
  }

  it("the password alone does not reach consent; a wrong code is an alert; the right code reaches consent and the token works", async () => {
    expect(secret, "enrollment ran first").toBeDefined();
    await withPage(async (page) => {
      const auth = await toSecondFactor(page);
      expect(await page.getByRole("heading", { level: 1 }).count()).toBe(1);
      expect(await focusedLabel(page), "the code field has focus").toBe("Code from your authenticator app");
      const view = await formsView(page);
      const codeForm = view.forms.find((f) => f.fields.some((x) => x.autocomplete === "one-time-code"));
      expect(codeForm?.method).toBe("post");
      expect(new URL(codeForm!.action).origin).toBe(view.origin);
      expect(view.forms.flatMap((f) => f.fields).some((x) => x.type === "password"), "no password field on the second step").toBe(false);
      await screenshot(page, "25-mfa-challenge");

      // A code that is certainly wrong: the right one with its last digit changed.
      const right = totp(secret!);
      await typeCode(page, "Code from your authenticator app", `${right.slice(0, 5)}${(Number(right[5]) + 1) % 10}`);
      await page.keyboard.press("Enter");
      await page.getByRole("alert").waitFor();
      await screenshot(page, "26-mfa-wrong-code");

      const next = await totpAfter(secret!, lastUsedStep);
      lastUsedStep = next.step;
      const field = page.getByLabel("Code from your authenticator app", { exact: true });
      await tabTo(page, field);
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.type(next.code);
      await page.keyboard.press("Enter");
      await consentHeading(page).waitFor();
      const landed = await answerConsentByKeyboard(page, "Allow", stack.app.origin);
      expect(landed.searchParams.get("state")).toBe(auth.state);
      const { status, body } = await redeemCode(stack, auth, landed.searchParams.get("code") ?? "");
      expect(status, JSON.stringify(body)).toBe(200);
      expect((await whoami(stack, body.access_token)).email).toBe(person.email);
    });
  });

  it("a recovery code, typed into the folded-away recovery form opened by keyboard, also reaches consent", async () => {
    expect(recoveryCodes.length).toBeGreaterThan(0);
    await withPage(async (page) => {
      await toSecondFactor(page);
      const summary = page.locator("#recovery summary");
      await tabTo(page, summary);
      await page.keyboard.press("Enter");
      await typeCode(page, "Recovery code", recoveryCodes[0]!);
      await screenshot(page, "27-mfa-recovery-code", [page.getByLabel("Recovery code", { exact: true })]);
      await page.keyboard.press("Enter");
      await consentHeading(page).waitFor();
      await answerConsentByKeyboard(page, "Deny", stack.app.origin);
    });
  });
});
