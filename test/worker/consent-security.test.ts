// The consent and sign-in pages against cross-site use: the browser-session cookie's attributes,
// the consent form's CSRF token bound to that cookie, cross-site form posts refused before any
// work, and anti-framing headers on every page. Each refusal is shown to change nothing: no
// event appended, and the honest browser can still finish afterwards.

import { beforeAll, describe, expect, it } from "vitest";
import { answerConsent, call, consentFormOf, form, freshEmail, ORIGIN, registerClient, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { authorizeAs, authorizePath, codeOf, eventTypes, PASSWORD, requestTicketOf, signUpToConsent } from "./consent-flow.ts";

const REDIRECT = "https://app.example/callback";
let clientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REDIRECT]);
}, WARM_UP_TIMEOUT_MS);

describe("RFC 6265bis §4.1.3.2: the browser-session cookie is a __Host- cookie", () => {
  it("a sign-in sets __Host-warden-session with Secure, HttpOnly, Path=/, SameSite=Lax, 12 h, and no Domain", async () => {
    const { setCookie } = await signUpToConsent(clientId, REDIRECT);
    expect(setCookie).toHaveLength(1);
    const [pair, ...attributes] = setCookie[0]!.split(";").map((s) => s.trim());
    expect(pair).toMatch(/^__Host-warden-session=[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(attributes.map((a) => a.toLowerCase()).sort()).toEqual(["httponly", "max-age=43200", "path=/", "samesite=lax", "secure"]);
  });

  it("the cookie carries no password and no email, only the account id and how it signed in", async () => {
    const { setCookie, email, accountId } = await signUpToConsent(clientId, REDIRECT);
    const payload = JSON.parse(atob(setCookie[0]!.split("=")[1]!.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    expect(Object.keys(payload).sort()).toEqual(["accountId", "amr", "authAt", "exp", "iat", "jti", "sid"]);
    expect(payload).toMatchObject({ accountId, amr: ["pwd"] });
    expect(JSON.stringify(payload)).not.toContain(PASSWORD);
    expect(JSON.stringify(payload)).not.toContain(email);
  });

  it("\"Not you? Use another account\" clears the cookie and shows the sign-in page for the same request", async () => {
    const { consent } = await signUpToConsent(clientId, REDIRECT);
    const res = await call("/logout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", cookie: consent.cookie }, body: new URLSearchParams({ ticket: consent.ticket }).toString(), redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie()).toEqual(["__Host-warden-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"]);
    const signIn = await call(res.headers.get("location")!);
    expect(signIn.status).toBe(200);
    expect(await signIn.text()).toContain('autocomplete="current-password"');
  });
});

describe("RFC 6749 §10.12 / RFC 9700 §4.7.1: the consent form is bound to the browser that signed in (CSRF)", () => {
  type Forge = (mine: { cookie: string; csrf: string }, other: { cookie: string; csrf: string }, sibling: { csrf: string }) => { cookie: string; csrf: string };
  it.each<[string, Forge]>([
    ["no cookie at all", (c) => ({ ...c, cookie: "" })],
    ["another browser's session cookie", (c, other) => ({ ...c, cookie: other.cookie })],
    ["another browser's cookie and CSRF token", (_c, other) => ({ cookie: other.cookie, csrf: other.csrf })],
    ["a tampered cookie", (c) => ({ ...c, cookie: c.cookie.slice(0, -2) + (c.cookie.endsWith("AA") ? "BB" : "AA") })],
    ["no CSRF token", (c) => ({ ...c, csrf: "" })],
    ["the CSRF token of another consent page of the same browser", (c, _o, sibling) => ({ ...c, csrf: sibling.csrf })],
  ])("with %s, allow is refused with 403 and appends nothing; the right browser then still allows once", async (_name, forge) => {
    const { consent, stub } = await signUpToConsent(clientId, REDIRECT);
    const other = await signUpToConsent(clientId, REDIRECT);
    // A second consent page in the same browser (nothing granted yet, so /authorize asks again).
    const sibling = await consentFormOf(await authorizeAs(consent.cookie, clientId, REDIRECT), consent.cookie);
    const before = await eventTypes(stub);
    const forged = forge({ cookie: consent.cookie, csrf: consent.csrf }, other.consent, sibling);
    const refused = await answerConsent({ ...consent, ...forged }, "allow");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("location")).toBeNull();
    expect(await eventTypes(stub)).toEqual(before);
    const allowed = await answerConsent(consent, "allow");
    expect(codeOf(allowed).searchParams.get("code")).toBeTruthy();
  });

  it("another browser's cookie cannot deny either: no ConsentDenied is recorded", async () => {
    const { consent, stub } = await signUpToConsent(clientId, REDIRECT);
    const other = await signUpToConsent(clientId, REDIRECT);
    const before = await eventTypes(stub);
    expect((await answerConsent({ ...consent, cookie: other.consent.cookie }, "deny")).status).toBe(403);
    expect(await eventTypes(stub)).toEqual(before);
  });

  it("a client without browser headers (no Origin, no Sec-Fetch-Site) succeeds when its cookie and token are right", async () => {
    const { consent, stub } = await signUpToConsent(clientId, REDIRECT);
    const res = await answerConsent(consent, "allow");
    const location = codeOf(res);
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    expect(await eventTypes(stub)).toContain("ConsentGranted");
  });
});

const crossSite: Array<[string, Record<string, string>]> = [
  ["Origin of another site", { origin: "https://evil.example" }],
  ["Origin: null from a cross-site page", { origin: "null", "sec-fetch-site": "cross-site" }],
  ["Origin: null without Fetch Metadata (a legacy browser on a no-referrer page)", { origin: "null" }],
  ["Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
  ["Sec-Fetch-Site: same-site (a sibling subdomain)", { "sec-fetch-site": "same-site" }],
  ["a same-origin Origin but Sec-Fetch-Site: cross-site", { origin: ORIGIN, "sec-fetch-site": "cross-site" }],
  ["Sec-Fetch-Site: none beside the Origin of another site (the two disagree)", { origin: "https://evil.example", "sec-fetch-site": "none" }],
  ["Sec-Fetch-Site: same-origin beside the Origin of another site", { origin: "https://evil.example", "sec-fetch-site": "same-origin" }],
];

const post = (path: string, fields: Record<string, string>, headers: Record<string, string>) =>
  call(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...headers }, body: new URLSearchParams(fields).toString(), redirect: "manual" });

describe("Fetch Metadata + RFC 6454 Origin: a cross-site form post is refused with a 403 page and changes nothing", () => {
  it.each(crossSite)("consent allow with %s: 403, no event, no code", async (_name, headers) => {
    const { consent, stub } = await signUpToConsent(clientId, REDIRECT);
    const before = await eventTypes(stub);
    const res = await post("/consent", { ticket: consent.ticket, csrf: consent.csrf, decision: "allow" }, { ...headers, cookie: consent.cookie });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("location")).toBeNull();
    expect(await eventTypes(stub)).toEqual(before);
    // The same form from the page itself still works: the refusal used nothing up.
    const same = await post("/consent", { ticket: consent.ticket, csrf: consent.csrf, decision: "allow" }, { origin: ORIGIN, "sec-fetch-site": "same-origin", cookie: consent.cookie });
    expect(codeOf(same).searchParams.get("code")).toBeTruthy();
  });

  it.each(crossSite)("sign-in with the right password and %s: 403, no LoginSucceeded, no cookie", async (_name, headers) => {
    const { email, stub } = await signUpToConsent(clientId, REDIRECT);
    const before = await eventTypes(stub);
    const page = await (await authorizeAs(null, clientId, REDIRECT)).text();
    const res = await post("/login", { email, password: PASSWORD, request: requestTicketOf(page) }, headers);
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await eventTypes(stub)).toEqual(before);
  });

  it("Sec-Fetch-Site: same-origin decides alone, even beside Origin: null (a page of ours cached under the old no-referrer)", async () => {
    const { consent } = await signUpToConsent(clientId, REDIRECT);
    const res = await post("/consent", { ticket: consent.ticket, csrf: consent.csrf, decision: "allow" }, { origin: "null", "sec-fetch-site": "same-origin", cookie: consent.cookie });
    expect(codeOf(res).searchParams.get("code")).toBeTruthy();
  });

  it("login CSRF: /login with the right password, Origin: null and no Sec-Fetch-Site is a 403 page, no cookie, nothing appended; our own Origin then signs in", async () => {
    const { email, stub } = await signUpToConsent(clientId, REDIRECT);
    const before = await eventTypes(stub);
    const request = requestTicketOf(await (await authorizeAs(null, clientId, REDIRECT)).text());
    const refused = await post("/login", { email, password: PASSWORD, request }, { origin: "null" });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await refused.text()).toContain("Request refused");
    expect(refused.headers.getSetCookie()).toEqual([]);
    expect(await eventTypes(stub)).toEqual(before);
    // What a browser without Fetch Metadata sends from our own page under Referrer-Policy: same-origin.
    const own = await post("/login", { email, password: PASSWORD, request }, { origin: ORIGIN });
    expect(own.status).toBe(200);
    expect(own.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-warden-session=/)]);
    expect(await own.text()).toContain('name="decision" value="allow"');
    expect((await eventTypes(stub)).slice(before.length)).toContain("LoginSucceeded");
  });

  it("sign-up from another site creates no account: the same email signs up from the page afterwards", async () => {
    const email = freshEmail();
    const page = await (await authorizeAs(null, clientId, REDIRECT)).text();
    const refused = await post("/signup", { email, password: PASSWORD, request: requestTicketOf(page) }, { origin: "https://evil.example" });
    expect(refused.status).toBe(403);
    expect(refused.headers.getSetCookie()).toEqual([]);
    const created = await call("/signup", form({ email, password: PASSWORD, request: requestTicketOf(page) }));
    expect(created.status).toBe(200);
  });

  it("sign-out from another site clears nothing", async () => {
    const { consent } = await signUpToConsent(clientId, REDIRECT);
    const res = await post("/logout", { ticket: consent.ticket }, { "sec-fetch-site": "cross-site", cookie: consent.cookie });
    expect(res.status).toBe(403);
    expect(res.headers.getSetCookie()).toEqual([]);
  });

  it.each(["/login", "/signup", "/consent", "/logout", "/login/mfa", "/account/security", "/account/password"])(
    "POST %s from another site is a 403 page before its handler runs",
    async (path) => {
      const res = await post(path, { request: "x" }, { "sec-fetch-site": "cross-site", origin: "https://evil.example" });
      expect(res.status).toBe(403);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.getSetCookie()).toEqual([]);
    },
  );

  it("the OAuth endpoints browser-based clients call cross-origin (/token, /register) are not refused for it", async () => {
    const res = await post("/token", { grant_type: "authorization_code", client_id: clientId, code: "nope", redirect_uri: REDIRECT, code_verifier: "v".repeat(43) }, { origin: "https://evil.example", "sec-fetch-site": "cross-site" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
  });
});

describe("RFC 6749 §10.13 clickjacking: every page forbids framing, leaks no referrer to other origins and is not cached", () => {
  const pages: Array<[string, () => Promise<Response>]> = [
    ["home", () => call("/")],
    ["sign-in (/authorize)", () => call(authorizePath(clientId, REDIRECT))],
    ["bad /authorize (400 page)", () => call("/authorize?client_id=unknown")],
    ["sign-up", () => call("/signup")],
    ["sign-in (/login?request)", async () => call(`/login?request=${encodeURIComponent(requestTicketOf(await (await call(authorizePath(clientId, REDIRECT))).text()))}`)],
    ["consent (after sign-up)", async () => {
      const page = await (await call(authorizePath(clientId, REDIRECT))).text();
      return call("/signup", form({ email: freshEmail(), password: PASSWORD, request: requestTicketOf(page) }));
    }],
    ["expired consent (400 page)", () => call("/consent", form({ ticket: "a.b.c", decision: "allow" }))],
    ["cross-site refusal (403 page)", () => post("/consent", { ticket: "a.b.c" }, { origin: "https://evil.example" })],
    ["signed out", () => call("/logout", form({}))],
  ];

  it.each(pages)("%s", async (_name, load) => {
    const res = await load();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // same-origin: no Referer to any other site, our real Origin on our own posts (http/same-origin.ts).
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
    expect(res.headers.get("cache-control")).toBe("no-store");
    await res.body?.cancel();
  });

  it("the redirect back to the client (another origin) carries no-store and a policy that sends it no referrer", async () => {
    const { consent } = await signUpToConsent(clientId, REDIRECT);
    const res = await answerConsent(consent, "allow");
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get("location")!).origin).not.toBe(ORIGIN);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("referrer-policy")).toBe("same-origin");
  });
});
