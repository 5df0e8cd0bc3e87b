// End to end against a real `wrangler dev`: a person signs up, turns on TOTP on the security
// page (reading the secret off the page like an authenticator app would), then an OAuth
// client sends them through sign-in with the second factor, gets tokens, and a real MCP
// client's whoami shows the session's assurance level (RFC 8176 amr ["pwd", "otp"]).

import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base32Decode, hotp, timeStep } from "../../src/totp.ts";
import { Browser, fieldByAutocomplete, findForm, snippet, submitterFor, type Page } from "./browser.ts";
import { randomEmail, randomPassword } from "./oauth-provider.ts";
import { authorizationUrl, discover, pkce, registerPublicClient, tokenRequest, type Discovery } from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";
import { structured } from "./tool-results.ts";

let server: DevServer;
let discovery: Discovery;
let redirectUri: string;

beforeAll(async () => {
  server = await startDevServer({ name: "mfa" });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  discovery = await discover(server.mcpUrl);
});

afterAll(async () => {
  await server?.stop();
});

const expectPage = (page: Page, status: number, what: string) => expect(page.status, `${what}: ${snippet(page)}`).toBe(status);
const byName = (name: string) => (c: { name: string }) => c.name === name;
const byId = (id: string) => (c: { element: { getAttribute(n: string): string | undefined } }) => c.element.getAttribute("id") === id;

describe("TOTP (RFC 6238) from enrollment to an MCP session at AAL2", () => {
  it("enroll on /account/security → sign in with password + code → token → whoami shows amr [pwd, otp]", async () => {
    const browser = new Browser();
    const email = randomEmail("mfa");
    const password = randomPassword();

    // Sign up without an OAuth client.
    const signUp = await browser.get(`${server.origin}/signup`);
    const signUpForm = findForm(signUp, (c) => c.autocomplete === "new-password", "sign-up form");
    expectPage(await browser.submit(signUpForm, { values: { email, password } }), 201, "sign-up");

    // The security page: password first, then the authenticator setup.
    const gate = await browser.get(`${server.origin}/account/security`);
    const gateForm = findForm(gate, (c) => c.autocomplete === "current-password", "security sign-in form");
    const settings = await browser.submit(gateForm, { values: { email, password } });
    expectPage(settings, 200, "security page");
    const enrollPage = await browser.submit(findForm(settings, byId("enroll"), "enroll form"));
    expectPage(enrollPage, 200, "enrollment page");
    const secret = enrollPage.document.querySelector("#totp-secret")!.text.replace(/\s/g, "");
    const uri = new URL(enrollPage.document.querySelector("#otpauth-link")!.getAttribute("href")!);
    expect(uri.searchParams.get("secret")).toBe(secret);
    const seed = base32Decode(secret)!;
    const confirmForm = findForm(enrollPage, (c) => c.autocomplete === "one-time-code", "confirm form");
    expect(fieldByAutocomplete(confirmForm, "one-time-code").element.getAttribute("inputmode")).toBe("numeric");
    const codesPage = await browser.submit(confirmForm, { values: { code: await hotp(seed, timeStep(Date.now())) } });
    expectPage(codesPage, 200, "recovery codes page");
    expect(codesPage.document.querySelectorAll("#recovery-codes li")).toHaveLength(10);

    // An OAuth client sends the person to sign in: password, then the code.
    const clientId = await registerPublicClient(discovery, redirectUri);
    const verifier = pkce();
    const signIn = await browser.get(authorizationUrl(discovery, { clientId, redirectUri, pkce: verifier, state: "st-mfa" }));
    // A browser session from the security page is not one that skips this (it started no sign-in
    // session), so the password page comes first.
    const passwordForm = findForm(signIn, (c) => c.autocomplete === "current-password", "sign-in form");
    const challenge = await browser.submit(passwordForm, { values: { email, password } });
    expectPage(challenge, 200, "second-factor page");
    const totpForm = findForm(challenge, byId("verify-code"), "TOTP form");
    const consent = await browser.submit(totpForm, { values: { code: await hotp(seed, timeStep(Date.now()) + 1) } });
    expectPage(consent, 200, "consent page");
    const consentForm = findForm(consent, byName("decision"), "consent form");
    const redirected = await browser.submit(consentForm, { submitter: submitterFor(consentForm, "decision", "allow") });
    expect(redirected.status).toBe(302);
    const code = redirected.location!.searchParams.get("code")!;

    const tokenRes = await tokenRequest(discovery, { grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier.verifier, client_id: clientId });
    expect(tokenRes.status).toBe(200);
    const tokens = (await tokenRes.json()) as { access_token: string };
    expect(decodeJwt(tokens.access_token)).toMatchObject({ amr: ["pwd", "otp"], acr: "urn:warden:aal2" });

    const client = new Client({ name: "warden-e2e-mfa", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.mcpUrl), { requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } } }));
    try {
      const me = structured(await client.callTool({ name: "whoami", arguments: {} }), "whoami");
      expect(me).toMatchObject({ email, amr: ["pwd", "otp"] });
    } finally {
      await client.close();
    }
  });
});
