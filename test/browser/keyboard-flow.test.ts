// The person's part of OAuth 2.1 authorization in headless Chromium, by keyboard only
// (WCAG 2.1.1 Keyboard): the browser does the sign-up / sign-in and consent, the client
// (this test, from Node) does registration, PKCE, the code exchange and the MCP call.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { focusedLabel, newPage, screenshot } from "./chromium.ts";
import { newAuthorization, randomEmail, randomPassword, redeemCode, startStack, whoami, type Stack } from "./harness.ts";
import { answerConsentByKeyboard, consentHeading, openAuthorization, signInByKeyboard, signInHeading, signUpByKeyboard } from "./keyboard.ts";

let stack: Stack;
/** Signed up in the first test, signed in with in the others. */
const person = { email: randomEmail("keyboard"), password: randomPassword() };

beforeAll(async () => {
  stack = await startStack("browser-keyboard");
});

afterAll(async () => {
  await stack?.close();
});

describe("RFC 6749 §4.1 + RFC 7636: authorization code with PKCE, the person's part by keyboard only", () => {
  it("a new person signs up, allows access and lands on the redirect URI; the code redeems to a token that works at /mcp", async () => {
    const auth = await newAuthorization(stack);
    const page = await newPage(stack.browser);
    try {
      await openAuthorization(page, auth.url, "01-sign-in");
      expect(await focusedLabel(page), "the sign-in page starts in the email field").toBe("Email");

      await signUpByKeyboard(page, person.email, person.password, { signUp: "02-sign-up", filled: "03-sign-up-filled" });
      await consentHeading(page).waitFor();
      const consentText = await page.locator("main").innerText();
      expect(consentText).toContain(auth.clientName);
      expect(consentText).toContain(person.email);
      expect(consentText).toContain(new URL(stack.app.redirectUri).host);
      await screenshot(page, "04-consent");

      const landed = await answerConsentByKeyboard(page, "Allow", stack.app.origin);
      await page.locator("#app-callback").waitFor();
      await screenshot(page, "05-redirect-back-to-app");

      // RFC 6749 §4.1.2 + RFC 9207 §2: code, the same state, and iss on the redirect.
      expect(`${landed.origin}${landed.pathname}`).toBe(stack.app.redirectUri);
      expect(landed.searchParams.get("state")).toBe(auth.state);
      expect(landed.searchParams.get("iss")).toBe(stack.discovery.server.issuer);
      const code = landed.searchParams.get("code");
      expect(code).toBeTruthy();
      expect(stack.app.hits.some((h) => h.url.searchParams.get("code") === code), "the app's own server received the code").toBe(true);

      const { status, body } = await redeemCode(stack, auth, code!);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.token_type).toMatch(/^bearer$/i);
      const me = await whoami(stack, body.access_token);
      expect(me.email).toBe(person.email);
      expect(me.scopes).toContain("account:read");
    } finally {
      await page.context().close();
    }
  });
});

describe("sign-in by keyboard (HTML forms, WCAG 2.1.1 Keyboard, WCAG 4.1.3 Status Messages)", () => {
  it("a wrong password shows an error announced as role=alert, keeps the email, and the person can retry by keyboard", async () => {
    const auth = await newAuthorization(stack);
    const page = await newPage(stack.browser);
    try {
      await openAuthorization(page, auth.url);
      await signInByKeyboard(page, person.email, `${person.password}-wrong`);
      const alert = page.getByRole("alert");
      await alert.waitFor();
      expect(await alert.innerText()).toMatch(/wrong email or password/i);
      // The same generic message for an unknown email is proven in the worker tests; here: usable.
      await signInHeading(page).waitFor();
      expect(await page.getByLabel("Email", { exact: true }).inputValue()).toBe(person.email);
      expect(await page.getByLabel("Password", { exact: true }).inputValue(), "a refused password is not echoed back").toBe("");
      expect(await focusedLabel(page), "focus starts again in a labelled field of the form").toBe("Email");
      await screenshot(page, "06-sign-in-wrong-password");

      await signInByKeyboard(page, person.email, person.password);
      await consentHeading(page).waitFor();
      const landed = await answerConsentByKeyboard(page, "Allow", stack.app.origin);
      expect(landed.searchParams.get("code")).toBeTruthy();
      expect(landed.searchParams.get("state")).toBe(auth.state);
    } finally {
      await page.context().close();
    }
  });

  it("RFC 6749 §4.1.2.1: Deny by keyboard redirects with error=access_denied, the state and iss (RFC 9207), and no code", async () => {
    const auth = await newAuthorization(stack);
    const page = await newPage(stack.browser);
    try {
      await openAuthorization(page, auth.url);
      await signInByKeyboard(page, person.email, person.password);
      await consentHeading(page).waitFor();
      const landed = await answerConsentByKeyboard(page, "Deny", stack.app.origin);
      await page.locator("#app-callback").waitFor();
      await screenshot(page, "07-denied-back-at-app");
      expect(landed.searchParams.get("error")).toBe("access_denied");
      expect(landed.searchParams.get("state")).toBe(auth.state);
      expect(landed.searchParams.get("iss")).toBe(stack.discovery.server.issuer);
      expect(landed.searchParams.has("code")).toBe(false);
    } finally {
      await page.context().close();
    }
  });
});

describe("RFC 6265bis §4.1.3.2: the browser sign-in session as Chromium keeps it", () => {
  it("Chromium stores the __Host- session cookie (Secure, HttpOnly, host-only) on http://127.0.0.1, and the next authorization goes straight to consent", async () => {
    const page = await newPage(stack.browser);
    try {
      await openAuthorization(page, (await newAuthorization(stack)).url);
      await signInByKeyboard(page, person.email, person.password);
      await consentHeading(page).waitFor();
      const cookies = await page.context().cookies(stack.server.origin);
      const session = cookies.filter((c) => c.name.startsWith("__Host-"));
      expect(session, JSON.stringify(cookies.map((c) => c.name))).toHaveLength(1);
      expect(session[0]).toMatchObject({ secure: true, httpOnly: true, path: "/", domain: "127.0.0.1" });
      await answerConsentByKeyboard(page, "Allow", stack.app.origin);

      // A loopback client is asked every time, but the password page is skipped.
      const second = await newAuthorization(stack, "Second Keyboard App");
      const response = await page.goto(second.url.href);
      expect(response?.status()).toBe(200);
      await consentHeading(page).waitFor();
      expect(await page.locator("main").innerText()).toContain(person.email);
      expect(await page.locator("input[type=password]").count()).toBe(0);
      await screenshot(page, "14-consent-from-browser-session");
      const landed = await answerConsentByKeyboard(page, "Allow", stack.app.origin);
      expect(landed.searchParams.get("state")).toBe(second.state);
      const { status } = await redeemCode(stack, second, landed.searchParams.get("code") ?? "");
      expect(status).toBe(200);
    } finally {
      await page.context().close();
    }
  });
});

describe("Referrer Policy same-origin (W3C Referrer Policy §3.5, Fetch \"append a request Origin header\")", () => {
  it("sign-up, sign-in and consent posts carry Warden's own Origin; the client's redirect URI receives no Referer", async () => {
    const other = { email: randomEmail("referrer"), password: randomPassword() };
    const posts: Promise<{ path: string; headers: Record<string, string> }>[] = [];
    const record = (page: Awaited<ReturnType<typeof newPage>>) =>
      page.on("request", (r) => {
        if (r.method() === "POST" && new URL(r.url()).origin === stack.server.origin) posts.push(r.allHeaders().then((headers) => ({ path: new URL(r.url()).pathname, headers })));
      });
    for (const signUp of [true, false]) {
      const auth = await newAuthorization(stack);
      const page = await newPage(stack.browser);
      try {
        record(page);
        await openAuthorization(page, auth.url);
        if (signUp) await signUpByKeyboard(page, other.email, other.password);
        else await signInByKeyboard(page, other.email, other.password);
        await consentHeading(page).waitFor();
        const landed = await answerConsentByKeyboard(page, "Allow", stack.app.origin);
        await page.locator("#app-callback").waitFor();
        const code = landed.searchParams.get("code");
        expect(code).toBeTruthy();
        const hit = stack.app.hits.find((h) => h.url.searchParams.get("code") === code);
        expect(hit?.referer, "the redirect back carries no Referer (the consent page's URL holds a ticket)").toBeNull();
        expect(await page.evaluate(() => document.referrer)).toBe("");
        expect((await redeemCode(stack, auth, code!)).status).toBe(200);
      } finally {
        await page.context().close();
      }
    }
    const seen = await Promise.all(posts);
    expect(seen.map((p) => p.path)).toEqual(["/signup", "/consent", "/login", "/consent"]);
    for (const { path, headers } of seen) {
      expect(headers["origin"], `Origin of POST ${path}`).toBe(stack.server.origin);
      expect(headers["sec-fetch-site"], `Sec-Fetch-Site of POST ${path}`).toBe("same-origin");
    }
  });
});

describe("error pages a person may meet", () => {
  it("an unknown client_id is a 400 page in the browser, never a redirect (RFC 6749 §4.1.2.1)", async () => {
    const auth = await newAuthorization(stack);
    const url = new URL(auth.url);
    url.searchParams.set("client_id", "no-such-client");
    const page = await newPage(stack.browser);
    try {
      const response = await page.goto(url.href);
      expect(response?.status()).toBe(400);
      expect(new URL(page.url()).origin).toBe(stack.server.origin);
      expect(stack.app.hits.some((h) => h.url.searchParams.get("state") === auth.state)).toBe(false);
      await screenshot(page, "08-error-unknown-client");
    } finally {
      await page.context().close();
    }
  });

  it("a tampered sign-in request ticket is a 400 'expired' page, not a sign-in form", async () => {
    const page = await newPage(stack.browser);
    try {
      const response = await page.goto(`${stack.server.origin}/login?request=tampered`);
      expect(response?.status()).toBe(400);
      expect(await page.getByRole("heading").first().innerText()).toMatch(/expired/i);
      expect(await page.locator("input[type=password]").count()).toBe(0);
      await screenshot(page, "09-error-expired-request");
    } finally {
      await page.context().close();
    }
  });
});
