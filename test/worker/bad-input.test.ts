// Bad input through the Worker: every request a client can send that is wrong gets a 4xx
// in the standard shape for its endpoint (never a 5xx), and an OAuth error never redirects
// to an address the client did not register (RFC 6749 §4.1.2.1).

import { beforeAll, describe, expect, it } from "vitest";
import { answerConsent, call, consentFormOf, form, type ConsentForm, jsonBody, ORIGIN, pkcePair, registerClient, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

const REDIRECT = "http://127.0.0.1:33418/callback";
let clientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REDIRECT]);
}, WARM_UP_TIMEOUT_MS);

/** A body that declares no length and streams more than 64 KiB. */
const streamed = (contentType: string, bytes: number): RequestInit => ({
  method: "POST",
  headers: { "content-type": contentType },
  body: new ReadableStream({
    start(controller) {
      for (let sent = 0; sent < bytes; sent += 8192) controller.enqueue(new Uint8Array(8192).fill(0x61));
      controller.close();
    },
  }),
});

const validClient = { redirect_uris: ["https://app.example/callback"] };
const big = "x".repeat(65 * 1024);

interface OAuthCase {
  readonly name: string;
  readonly path: string;
  readonly init: () => RequestInit;
  readonly status: number;
  readonly error: string;
}

const OAUTH_CASES: OAuthCase[] = [
  // RFC 7591 §3.2.2: registration errors
  { name: "/register with malformed JSON", path: "/register", init: () => jsonBody('{"redirect_uris": ['), status: 400, error: "invalid_client_metadata" },
  { name: "/register with a text/plain body", path: "/register", init: () => jsonBody(validClient, "text/plain"), status: 415, error: "invalid_client_metadata" },
  { name: "/register with no content type", path: "/register", init: () => ({ method: "POST", body: JSON.stringify(validClient) }), status: 415, error: "invalid_client_metadata" },
  { name: "/register with a JSON array", path: "/register", init: () => jsonBody([validClient]), status: 400, error: "invalid_client_metadata" },
  { name: "/register with JSON null", path: "/register", init: () => jsonBody("null"), status: 400, error: "invalid_client_metadata" },
  { name: "/register with a JSON string", path: "/register", init: () => jsonBody('"hello"'), status: 400, error: "invalid_client_metadata" },
  { name: "/register with a body over 64 KiB", path: "/register", init: () => jsonBody({ ...validClient, client_name: big }), status: 413, error: "invalid_client_metadata" },
  { name: "/register with a streamed body over 64 KiB", path: "/register", init: () => streamed("application/json", 70 * 1024), status: 413, error: "invalid_client_metadata" },
  { name: "/register with invalid UTF-8", path: "/register", init: () => ({ method: "POST", headers: { "content-type": "application/json" }, body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }), status: 400, error: "invalid_client_metadata" },
  { name: "/register without redirect_uris", path: "/register", init: () => jsonBody({ client_name: "x" }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with empty redirect_uris", path: "/register", init: () => jsonBody({ redirect_uris: [] }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with a string for redirect_uris", path: "/register", init: () => jsonBody({ redirect_uris: "https://app.example/cb" }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with a relative redirect_uri", path: "/register", init: () => jsonBody({ redirect_uris: ["/callback"] }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with an http non-loopback redirect_uri", path: "/register", init: () => jsonBody({ redirect_uris: ["http://evil.example/cb"] }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with a javascript: redirect_uri", path: "/register", init: () => jsonBody({ redirect_uris: ["javascript:alert(1)"] }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with a data: redirect_uri", path: "/register", init: () => jsonBody({ redirect_uris: ["data:text/html,hi"] }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with a redirect_uri fragment", path: "/register", init: () => jsonBody({ redirect_uris: ["https://app.example/cb#frag"] }), status: 400, error: "invalid_redirect_uri" },
  { name: "/register with an unknown auth method", path: "/register", init: () => jsonBody({ ...validClient, token_endpoint_auth_method: "private_key_jwt" }), status: 400, error: "invalid_client_metadata" },
  { name: "/register with an implicit grant", path: "/register", init: () => jsonBody({ ...validClient, grant_types: ["implicit"] }), status: 400, error: "invalid_client_metadata" },
  { name: "/register with an unknown scope", path: "/register", init: () => jsonBody({ ...validClient, scope: "root" }), status: 400, error: "invalid_client_metadata" },
  { name: "/register with a numeric client_name", path: "/register", init: () => jsonBody({ ...validClient, client_name: 42 }), status: 400, error: "invalid_client_metadata" },
  // RFC 6749 §5.2: token endpoint errors
  { name: "/token with a JSON body", path: "/token", init: () => jsonBody({ grant_type: "authorization_code" }), status: 400, error: "invalid_request" },
  { name: "/token without grant_type", path: "/token", init: () => form({ client_id: clientId }), status: 400, error: "invalid_request" },
  { name: "/token with an unknown grant_type", path: "/token", init: () => form({ grant_type: "password", client_id: clientId }), status: 400, error: "unsupported_grant_type" },
  { name: "/token with an unknown client", path: "/token", init: () => form({ grant_type: "authorization_code", client_id: "no-such-client" }), status: 401, error: "invalid_client" },
  { name: "/token with a malformed client_id", path: "/token", init: () => form({ grant_type: "authorization_code", client_id: "../../etc" }), status: 401, error: "invalid_client" },
  { name: "/token with a garbage code", path: "/token", init: () => form({ grant_type: "authorization_code", client_id: clientId, code: "garbage", redirect_uri: REDIRECT, code_verifier: pkcePair().verifier }), status: 400, error: "invalid_grant" },
  { name: "/token with a well-routed but unknown code", path: "/token", init: () => form({ grant_type: "authorization_code", client_id: clientId, code: `${crypto.randomUUID()}.nope`, redirect_uri: REDIRECT, code_verifier: pkcePair().verifier }), status: 400, error: "invalid_grant" },
  { name: "/token with a short code_verifier", path: "/token", init: () => form({ grant_type: "authorization_code", client_id: clientId, code: `${crypto.randomUUID()}.x`, redirect_uri: REDIRECT, code_verifier: "short" }), status: 400, error: "invalid_grant" },
  { name: "/token with an unknown refresh token", path: "/token", init: () => form({ grant_type: "refresh_token", client_id: clientId, refresh_token: `${crypto.randomUUID()}.nope` }), status: 400, error: "invalid_grant" },
  { name: "/token refresh with an unknown scope", path: "/token", init: () => form({ grant_type: "refresh_token", client_id: clientId, refresh_token: `${crypto.randomUUID()}.x`, scope: "root" }), status: 400, error: "invalid_scope" },
  { name: "/token with another resource", path: "/token", init: () => form({ grant_type: "refresh_token", client_id: clientId, refresh_token: "x", resource: "https://other.example/mcp" }), status: 400, error: "invalid_target" },
  { name: "/token with a repeated grant_type", path: "/token", init: () => form([["grant_type", "authorization_code"], ["grant_type", "refresh_token"], ["client_id", clientId]]), status: 400, error: "invalid_request" },
  { name: "/token with a repeated resource", path: "/token", init: () => form([["grant_type", "refresh_token"], ["client_id", clientId], ["resource", `${ORIGIN}/mcp`], ["resource", `${ORIGIN}/mcp`]]), status: 400, error: "invalid_request" },
  { name: "/token with a streamed body over 64 KiB", path: "/token", init: () => streamed("application/x-www-form-urlencoded", 70 * 1024), status: 413, error: "invalid_request" },
];

describe("OAuth endpoints answer bad input with RFC 6749 §5.2 JSON errors", () => {
  it.each(OAUTH_CASES)("$name → $status $error", async ({ path, init, status, error }) => {
    const res = await call(path, init());
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toContain("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.error).toBe(error);
    expect(typeof body.error_description).toBe("string");
  });
});

type Params = Record<string, string | null | undefined>;

const authorizeUrl = (params: Params) => {
  const { challenge } = pkcePair();
  const all: Params = {
    response_type: "code", client_id: clientId, redirect_uri: REDIRECT, state: "st-123",
    code_challenge: challenge, code_challenge_method: "S256", scope: "account:read", ...params,
  };
  const query = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => typeof e[1] === "string"));
  return `/authorize?${query}`;
};

describe("RFC 6749 §4.1.2.1: /authorize does not redirect until client and redirect_uri are known good", () => {
  it.each<{ name: string; params: Params; extra?: string }>([
    { name: "an unknown client", params: { client_id: "no-such-client" } },
    { name: "a missing client_id", params: { client_id: null } },
    { name: "an unregistered redirect_uri", params: { redirect_uri: "https://evil.example/callback" } },
    { name: "a registered redirect_uri with another path", params: { redirect_uri: "http://127.0.0.1:33418/other" } },
    { name: "a loopback redirect_uri on another host name", params: { redirect_uri: "http://localhost:33418/callback" } },
    { name: "a repeated redirect_uri", params: {}, extra: `&redirect_uri=${encodeURIComponent(REDIRECT)}` },
  ])("$name → 400 HTML page, no Location", async ({ params, extra }) => {
    const res = await call(authorizeUrl(params) + (extra ?? ""), { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/<html/i);
  });

  it.each<{ name: string; params: Params; error: string }>([
    { name: "missing PKCE challenge", params: { code_challenge: null }, error: "invalid_request" },
    { name: "plain PKCE method", params: { code_challenge_method: "plain" }, error: "invalid_request" },
    { name: "malformed PKCE challenge", params: { code_challenge: "abc" }, error: "invalid_request" },
    { name: "response_type token", params: { response_type: "token" }, error: "unsupported_response_type" },
    { name: "an unknown scope", params: { scope: "account:read root" }, error: "invalid_scope" },
    { name: "another resource", params: { resource: "https://other.example/mcp" }, error: "invalid_target" },
  ])("a registered client with $name → 302 back with error=$error, state and iss", async ({ params, error }) => {
    const res = await call(authorizeUrl(params), { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("error")).toBe(error);
    expect(location.searchParams.get("state")).toBe("st-123");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("a valid request shows the sign-in page", async () => {
    const res = await call(authorizeUrl({}));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('autocomplete="current-password"');
  });
});

describe("pages answer bad form posts with a 4xx page", () => {
  it.each([
    { name: "/signup with a JSON body", path: "/signup", init: () => jsonBody({ email: "a@example.com" }), status: 415 },
    { name: "/signup with a weak password", path: "/signup", init: () => form({ email: `w-${crypto.randomUUID()}@example.com`, password: "short" }), status: 400 },
    { name: "/signup with a malformed email", path: "/signup", init: () => form({ email: "not an email", password: "plum-Quartz-7-harbour" }), status: 400 },
    { name: "/signup with a repeated email", path: "/signup", init: () => form([["email", "a@example.com"], ["email", "b@example.com"], ["password", "plum-Quartz-7-harbour"]]), status: 400 },
    { name: "/signup with a forged request ticket", path: "/signup", init: () => form({ email: "a@example.com", password: "plum-Quartz-7-harbour", request: "a.b.c" }), status: 400 },
    { name: "/login without a request ticket", path: "/login", init: () => form({ email: "a@example.com", password: "x" }), status: 400 },
    { name: "/consent with a forged ticket", path: "/consent", init: () => form({ ticket: "a.b.c", decision: "allow" }), status: 400 },
    { name: "/consent with a repeated ticket", path: "/consent", init: () => form([["ticket", "a.b.c"], ["ticket", "d.e.f"], ["decision", "allow"]]), status: 400 },
    { name: "/consent with a body over 64 KiB", path: "/consent", init: () => form({ ticket: big }), status: 413 },
  ])("$name → $status", async ({ path, init, status }) => {
    const res = await call(path, init());
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("location")).toBeNull();
  });
});

/** A real consent form: /authorize → sign-up with the request ticket → consent page (ticket, CSRF token, cookie). */
async function consentTicket(): Promise<ConsentForm> {
  const page = await (await call(authorizeUrl({}))).text();
  const request = /name="request" value="([^"]+)"/.exec(page)?.[1];
  const email = `c-${crypto.randomUUID()}@example.com`;
  const consent = await call("/signup", form({ email, password: "plum-Quartz-7-harbour", request: request! }));
  expect(consent.status).toBe(200);
  return consentFormOf(consent);
}

describe("the consent form refuses malformed answers with a 400 page and changes nothing", () => {
  it("a valid ticket with a repeated decision → 400, and the same ticket can still be answered once", async () => {
    const consent = await consentTicket();
    const repeated = await answerConsent(consent, "allow", [["decision", "deny"]]);
    expect(repeated.status).toBe(400);
    expect(repeated.headers.get("location")).toBeNull();
    const allowed = await answerConsent(consent, "allow");
    expect(allowed.status).toBe(302);
    expect(new URL(allowed.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });

  it("a valid ticket with an unknown decision → 400; a ticket answered once cannot be answered again", async () => {
    const consent = await consentTicket();
    expect((await answerConsent(consent, "maybe")).status).toBe(400);
    expect((await answerConsent(consent, "allow")).status).toBe(302);
    const again = await answerConsent(consent, "allow");
    expect(again.status).toBe(400);
    expect(again.headers.get("location")).toBeNull();
  });
});

describe("routing", () => {
  it("an unknown path is a 404 JSON error", async () => {
    const res = await call("/no/such/path");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });

  it.each([
    ["GET", "/token"], ["GET", "/register"], ["DELETE", "/register"], ["PUT", "/authorize"], ["POST", "/.well-known/jwks.json"],
  ])("%s %s is a 405 JSON error with an Allow header", async (method, path) => {
    const res = await call(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBeTruthy();
    expect(await res.json()).toMatchObject({ error: "method_not_allowed" });
  });
});
