// Black-box: bad input to the OAuth endpoints, the pages and /mcp gets a clear,
// standard error and changes nothing it should not. A real `wrangler dev`, plain
// fetch and the HTML form driver; grouped by the RFC section each check proves.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, completeAuthorization, fieldByAutocomplete, findForm, linkHref } from "./browser.ts";
import { randomEmail, randomPassword } from "./oauth-provider.ts";
import {
  authorizationUrl,
  discover,
  parseBearerChallenge,
  pkce,
  registerPublicClient,
  tokenRequest,
  type Discovery,
} from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";

let server: DevServer;
let discovery: Discovery;
/** Never listened on: the browser stops at the redirect and hands us the Location. */
let redirectUri: string;
const member = { email: randomEmail("member"), password: randomPassword() };

beforeAll(async () => {
  server = await startDevServer({ name: "oauth-errors" });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  discovery = await discover(server.mcpUrl);
  // One account to sign in with.
  const clientId = await registerPublicClient(discovery, redirectUri);
  const url = authorizationUrl(discovery, { clientId, redirectUri, pkce: pkce(), state: "setup" });
  const location = await completeAuthorization(url, { mode: "signup", ...member, decision: "allow" });
  expect(location.searchParams.get("code")).toBeTruthy();
});

afterAll(async () => {
  await server?.stop();
});

describe("bad input gets a clear, standard error", () => {
  /** A raw MCP tools/list with a bearer token; the body is discarded. */
  async function mcpRequest(token: string) {
    const res = await fetch(server.mcpUrl, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    await res.body?.cancel();
    return res;
  }

  it("rejects a garbage bearer token with 401 invalid_token (RFC 6750 §3.1)", async () => {
    const res = await mcpRequest("not-a-real-token");
    expect(res.status).toBe(401);
    const challenge = parseBearerChallenge(res.headers.get("www-authenticate"));
    expect(challenge?.error, res.headers.get("www-authenticate") ?? "no WWW-Authenticate").toBe("invalid_token");
    expect(challenge?.resource_metadata).toBe(`${server.origin}/.well-known/oauth-protected-resource/mcp`);
  });

  it("re-renders the sign-in page with 401 for a wrong password", async () => {
    const clientId = await registerPublicClient(discovery, redirectUri);
    const browser = new Browser();
    const page = await browser.get(authorizationUrl(discovery, { clientId, redirectUri, pkce: pkce(), state: "s1" }));
    expect(page.status).toBe(200);
    const form = findForm(page, (c) => c.autocomplete === "current-password", "sign-in");
    expect(form.method).toBe("POST");
    expect(form.action.pathname).toBe("/login");
    const email = fieldByAutocomplete(form, "username");
    const password = fieldByAutocomplete(form, "current-password");
    expect([email.name, password.name]).toEqual(["email", "password"]);
    expect(form.fields.some((f) => f.type === "hidden" && f.name === "request")).toBe(true);

    const denied = await browser.submit(form, { values: { email: member.email, password: `${member.password}-wrong` } });
    expect(denied.status).toBe(401);
    findForm(denied, (c) => c.autocomplete === "current-password", "sign-in (again)");
    expect(denied.body).not.toContain(`${member.password}-wrong`);
  });

  it("redirects with access_denied when the user denies consent", async () => {
    const clientId = await registerPublicClient(discovery, redirectUri);
    const url = authorizationUrl(discovery, { clientId, redirectUri, pkce: pkce(), state: "deny-state" });
    const location = await completeAuthorization(url, { mode: "signin", email: member.email, password: member.password, decision: "deny" });
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("deny-state");
    expect(location.searchParams.get("code")).toBeNull();
  });

  /** A fresh authorization with plain fetch: returns the code exchange parameters. */
  async function rawAuthorization() {
    const clientId = await registerPublicClient(discovery, redirectUri);
    const verifier = pkce();
    const url = authorizationUrl(discovery, { clientId, redirectUri, pkce: verifier, state: "raw-state" });
    const location = await completeAuthorization(url, { mode: "signin", email: member.email, password: member.password, decision: "allow" });
    const exchange = {
      grant_type: "authorization_code",
      code: location.searchParams.get("code")!,
      redirect_uri: redirectUri,
      client_id: clientId,
      code_verifier: verifier.verifier,
      resource: discovery.resource.resource,
    };
    return { clientId, exchange };
  }

  async function redeem(params: Record<string, string>) {
    const res = await tokenRequest(discovery, params);
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(body.token_type).toMatch(/^bearer$/i);
    expect(typeof body.access_token).toBe("string");
    expect(typeof body.refresh_token).toBe("string");
    return body as { access_token: string; refresh_token: string };
  }

  async function expectInvalidGrant(params: Record<string, string>) {
    const res = await tokenRequest(discovery, params);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("cache-control")).toContain("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error, JSON.stringify(body)).toBe("invalid_grant");
    return body;
  }

  it("refuses a reused authorization code with 400 invalid_grant and revokes what it issued (RFC 6749 §4.1.2)", async () => {
    const { clientId, exchange } = await rawAuthorization();
    const tokens = await redeem(exchange);
    await expectInvalidGrant(exchange);
    // SHOULD revoke all tokens previously issued based on that code:
    await expectInvalidGrant({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: clientId });
    const mcp = await mcpRequest(tokens.access_token);
    expect(mcp.status).toBe(401);
    expect(parseBearerChallenge(mcp.headers.get("www-authenticate"))?.error).toBe("invalid_token");
  });

  it("refuses a code redeemed with the wrong PKCE verifier (RFC 7636 §4.6)", async () => {
    const { exchange } = await rawAuthorization();
    await expectInvalidGrant({ ...exchange, code_verifier: pkce().verifier });
  });

  it.each([
    ["response_type", "token", "unsupported_response_type"],
    ["scope", "admin:everything", "invalid_scope"],
    ["code_challenge_method", "plain", "invalid_request"],
    ["resource", "http://other.example/mcp", "invalid_target"],
  ])("redirects a bad authorization request (%s=%s) back with %s, state and iss (RFC 6749 §4.1.2.1)", async (param, value, error) => {
    const clientId = await registerPublicClient(discovery, redirectUri);
    const url = authorizationUrl(discovery, { clientId, redirectUri, pkce: pkce(), state: "bad-request" });
    url.searchParams.set(param, value);
    const page = await new Browser().get(url);
    expect(page.status).toBe(302);
    expect(`${page.location!.origin}${page.location!.pathname}`).toBe(redirectUri);
    expect(page.location!.searchParams.get("error")).toBe(error);
    expect(page.location!.searchParams.get("state")).toBe("bad-request");
    expect(page.location!.searchParams.get("iss")).toBe(discovery.server.issuer);
    expect(page.location!.searchParams.get("code")).toBeNull();
  });

  it("re-renders the sign-up page with a reason for a too-short password", async () => {
    const clientId = await registerPublicClient(discovery, redirectUri);
    const browser = new Browser();
    const signIn = await browser.get(authorizationUrl(discovery, { clientId, redirectUri, pkce: pkce(), state: "s" }));
    const signUp = await browser.get(linkHref(signIn, "#signup-link"));
    const form = findForm(signUp, (c) => c.autocomplete === "new-password", "sign-up");
    expect(form.action.pathname).toBe("/signup");
    expect([fieldByAutocomplete(form, "email").name, fieldByAutocomplete(form, "new-password").name]).toEqual(["email", "password"]);
    const weak = await browser.submit(form, { values: { email: randomEmail("weak"), password: "short" } });
    expect(weak.status).toBeGreaterThanOrEqual(400);
    expect(weak.status).toBeLessThan(500);
    expect(weak.document.text).toMatch(/12/);
    findForm(weak, (c) => c.autocomplete === "new-password", "sign-up (again)");
  });

  it("does not redirect to an unregistered redirect URI (RFC 6749 §4.1.2.1)", async () => {
    const clientId = await registerPublicClient(discovery, redirectUri);
    const url = authorizationUrl(discovery, { clientId, redirectUri: "http://evil.example/callback", pkce: pkce(), state: "s" });
    const page = await new Browser().get(url);
    expect(page.status).toBeGreaterThanOrEqual(400);
    expect(page.status).toBeLessThan(500);
    expect(page.location).toBeUndefined();
    expect(page.body).not.toContain("evil.example/callback?");
  });

  it("rotates refresh tokens and treats a replayed one as theft (OAuth 2.1 §4.3.1)", async () => {
    const { clientId, exchange } = await rawAuthorization();
    const tokens = await redeem(exchange);
    const refresh = { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: clientId };
    const rotated = await redeem(refresh);
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token);
    expect(rotated.access_token).not.toBe(tokens.access_token);
    // A lost response retried at once (grace window) gets the same successor, not a fork.
    expect((await redeem(refresh)).refresh_token).toBe(rotated.refresh_token);
    // The client moves on; now the first token coming back is theft.
    const newest = await redeem({ ...refresh, refresh_token: rotated.refresh_token });

    await expectInvalidGrant(refresh);
    // Reuse detection revokes the whole session, including the newest token.
    await expectInvalidGrant({ grant_type: "refresh_token", refresh_token: newest.refresh_token, client_id: clientId });
  });
});
