// Black-box: the browser sign-in session and remembered consent through a real `wrangler dev`,
// driven by the cookie-keeping form client (browser.ts). A second authorization in the same
// browser goes straight back to the client; a loopback-only client is asked every time; "Not
// you?" ends the session; a browser without the cookie cannot answer someone's consent page.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, completeAuthorization, findForm, formsOf, submitterFor } from "./browser.ts";
import { randomEmail, randomPassword } from "./oauth-provider.ts";
import { authorizationUrl, discover, pkce, registerPublicClient, tokenRequest, type Discovery } from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";

let server: DevServer;
let discovery: Discovery;
/** Never contacted: the browser stops at the redirect that leaves the server and hands us its Location. */
const WEB_REDIRECT = "https://app.example/callback";
let localRedirect: string;

beforeAll(async () => {
  server = await startDevServer({ name: "consent-browser-session" });
  discovery = await discover(server.mcpUrl);
  localRedirect = `http://127.0.0.1:${await freePort()}/callback`;
});

afterAll(async () => {
  await server?.stop();
});

const person = () => ({ email: randomEmail("consent"), password: randomPassword() });

describe("browser session + remembered consent (RFC 6265bis __Host- cookie; OAuth 2.1 §4.1.2)", () => {
  it("the sign-in response sets a __Host- cookie with Secure, HttpOnly, Path=/ and SameSite=Lax over real HTTP", async () => {
    const clientId = await registerPublicClient(discovery, WEB_REDIRECT);
    const browser = new Browser();
    const setCookies: string[] = [];
    await completeAuthorization(authorizationUrl(discovery, { clientId, redirectUri: WEB_REDIRECT, pkce: pkce(), state: "one" }), {
      mode: "signup", ...person(), decision: "allow", browser,
      observe: (step, page) => { if (step === "consent") setCookies.push(...page.headers.getSetCookie()); },
    });
    expect(setCookies).toHaveLength(1);
    expect(setCookies[0]).toMatch(/^__Host-warden-session=[^;]+; Max-Age=43200; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(browser.cookies(server.origin).has("__Host-warden-session")).toBe(true);
  });

  it("a second authorization in the same browser goes straight back with a code that redeems", async () => {
    const clientId = await registerPublicClient(discovery, WEB_REDIRECT);
    const browser = new Browser();
    await completeAuthorization(authorizationUrl(discovery, { clientId, redirectUri: WEB_REDIRECT, pkce: pkce(), state: "first" }), {
      mode: "signup", ...person(), decision: "allow", browser,
    });
    const second = pkce();
    const page = await browser.get(authorizationUrl(discovery, { clientId, redirectUri: WEB_REDIRECT, pkce: second, state: "second" }));
    expect(page.status).toBe(302);
    const location = page.location!;
    expect(`${location.origin}${location.pathname}`).toBe(WEB_REDIRECT);
    expect(location.searchParams.get("state")).toBe("second");
    expect(location.searchParams.get("iss")).toBe(server.origin);
    const token = await tokenRequest(discovery, {
      grant_type: "authorization_code", client_id: clientId, code: location.searchParams.get("code")!,
      redirect_uri: WEB_REDIRECT, code_verifier: second.verifier, resource: discovery.resource.resource,
    });
    expect(token.status).toBe(200);
  });

  it("a loopback-only client is asked again, with the warning, although it was allowed before", async () => {
    const clientId = await registerPublicClient(discovery, localRedirect);
    const browser = new Browser();
    await completeAuthorization(authorizationUrl(discovery, { clientId, redirectUri: localRedirect, pkce: pkce(), state: "first" }), {
      mode: "signup", ...person(), decision: "allow", browser,
    });
    const page = await browser.get(authorizationUrl(discovery, { clientId, redirectUri: localRedirect, pkce: pkce(), state: "second" }));
    expect(page.status).toBe(200);
    expect(page.document.querySelector("#local-client-warning")?.text).toContain(localRedirect);
    const consent = findForm(page, (c) => c.name === "decision", "consent");
    const answered = await browser.submit(consent, { submitter: submitterFor(consent, "decision", "allow") });
    expect(answered.status).toBe(302);
    expect(answered.location!.searchParams.get("code")).toBeTruthy();
  });

  it("\"Not you? Use another account\" ends the session: the next authorization asks for a password", async () => {
    const clientId = await registerPublicClient(discovery, WEB_REDIRECT);
    const browser = new Browser();
    const url = () => authorizationUrl(discovery, { clientId, redirectUri: WEB_REDIRECT, pkce: pkce(), state: "s" });
    let consentPage: Awaited<ReturnType<Browser["get"]>> | undefined;
    await completeAuthorization(url(), { mode: "signup", ...person(), decision: "deny", browser, observe: (step, page) => { if (step === "consent") consentPage = page; } });
    const switchForm = formsOf(consentPage!).find((f) => f.action.pathname === "/logout")!;
    const signIn = await browser.submit(switchForm);
    expect(signIn.status).toBe(200);
    expect(signIn.body).toContain('autocomplete="current-password"');
    expect(browser.cookies(server.origin).has("__Host-warden-session")).toBe(false);
    const next = await browser.get(url());
    expect(next.body).toContain('autocomplete="current-password"');
  });

  it("a consent page answered from a browser without its cookie changes nothing; its own browser then allows", async () => {
    const clientId = await registerPublicClient(discovery, WEB_REDIRECT);
    const browser = new Browser();
    const url = authorizationUrl(discovery, { clientId, redirectUri: WEB_REDIRECT, pkce: pkce(), state: "s" });
    const denied = await completeAuthorization(url, { mode: "signup", ...person(), decision: "deny", browser });
    expect(denied.searchParams.get("error")).toBe("access_denied");
    // A fresh consent page in the same browser (nothing granted), its form then posted from another browser.
    const page = await browser.get(authorizationUrl(discovery, { clientId, redirectUri: WEB_REDIRECT, pkce: pkce(), state: "t" }));
    const consent = findForm(page, (c) => c.name === "decision", "consent");
    const elsewhere = await new Browser().submit(consent, { submitter: submitterFor(consent, "decision", "allow") });
    expect(elsewhere.status).toBe(403);
    const own = await browser.submit(consent, { submitter: submitterFor(consent, "decision", "allow") });
    expect(own.status).toBe(302);
    expect(own.location!.searchParams.get("code")).toBeTruthy();
  });
});
