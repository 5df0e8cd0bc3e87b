// GET /authorize and the redirect_uri a native app presents (RFC 8252 §7.3): a loopback
// registration accepts any port at request time, and nothing else about the URI may vary.
// Until the redirect_uri is known good, errors are a page and never a redirect
// (RFC 6749 §4.1.2.1).

import { beforeAll, describe, expect, it } from "vitest";
import { answerConsent, call, consentFormOf, form, freshEmail, ORIGIN, pkcePair, registerClient, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

const REGISTERED = "http://127.0.0.1:33418/callback";
const OTHER_PORT = "http://127.0.0.1:51000/callback";
let clientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REGISTERED]);
}, WARM_UP_TIMEOUT_MS);

const authorizeUrl = (redirectUri: string, challenge = pkcePair().challenge) =>
  `/authorize?${new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirectUri, state: "st-8252",
    code_challenge: challenge, code_challenge_method: "S256", scope: "account:read",
  })}`;

describe("RFC 8252 §7.3: a loopback redirect_uri registered with one port is accepted with any port", () => {
  it("presented with another port, /authorize shows the sign-in page", async () => {
    const res = await call(authorizeUrl(OTHER_PORT), { redirect: "manual" });
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain('autocomplete="current-password"');
  });

  it("presented without a port, /authorize shows the sign-in page", async () => {
    const res = await call(authorizeUrl("http://127.0.0.1/callback"), { redirect: "manual" });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it("the code goes to the port presented, and /token redeems it only with that same redirect_uri", async () => {
    const { verifier, challenge } = pkcePair();
    const signIn = await (await call(authorizeUrl(OTHER_PORT, challenge))).text();
    const request = /name="request" value="([^"]+)"/.exec(signIn)![1]!;
    const consent = await call("/signup", form({ email: freshEmail(), password: "plum-Quartz-7-harbour", request }));
    const allowed = await answerConsent(await consentFormOf(consent), "allow");
    expect(allowed.status).toBe(302);
    const location = new URL(allowed.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(OTHER_PORT);
    expect(location.searchParams.get("state")).toBe("st-8252");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    const code = location.searchParams.get("code")!;

    // RFC 6749 §4.1.3: the redirect_uri at /token must be the one of the authorization request.
    const registered = await call("/token", form({ grant_type: "authorization_code", client_id: clientId, code, redirect_uri: REGISTERED, code_verifier: verifier }));
    expect(registered.status).toBe(400);
    expect(await registered.json()).toMatchObject({ error: "invalid_grant" });
    const presented = await call("/token", form({ grant_type: "authorization_code", client_id: clientId, code, redirect_uri: OTHER_PORT, code_verifier: verifier }));
    expect(presented.status).toBe(200);
    expect(await presented.json()).toMatchObject({ token_type: "Bearer", scope: "account:read" });
  });
});

describe("RFC 8252 §7.3 + RFC 6749 §4.1.2.1: only the port may vary; anything else is a 400 page, never a redirect", () => {
  it.each<[string, string]>([
    ["another path", "http://127.0.0.1:51000/other"],
    ["another path on the registered port", "http://127.0.0.1:33418/other"],
    ["another loopback host name", "http://localhost:51000/callback"],
    ["the IPv6 loopback", "http://[::1]:51000/callback"],
    ["a non-loopback host", "http://192.168.1.10:51000/callback"],
    ["a host that starts with the loopback address", "http://127.0.0.1.evil.example:51000/callback"],
    ["https instead of http", "https://127.0.0.1:51000/callback"],
    ["an added query", "http://127.0.0.1:51000/callback?next=https://evil.example"],
    ["a fragment", "http://127.0.0.1:51000/callback#x"],
    ["userinfo", "http://evil@127.0.0.1:51000/callback"],
  ])("presented with %s (%s)", async (_name, presented) => {
    const res = await call(authorizeUrl(presented), { redirect: "manual" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await res.text();
    expect(page).toMatch(/<html/i);
    expect(page).not.toContain('autocomplete="current-password"');
  });
});

describe("RFC 9207 §2: every authorization response carries iss, errors included", () => {
  it("access_denied after Deny carries iss and state and no code", async () => {
    const signIn = await (await call(authorizeUrl(REGISTERED))).text();
    const request = /name="request" value="([^"]+)"/.exec(signIn)![1]!;
    const consent = await call("/signup", form({ email: freshEmail(), password: "plum-Quartz-7-harbour", request }));
    const denied = await answerConsent(await consentFormOf(consent), "deny");
    expect(denied.status).toBe(302);
    const location = new URL(denied.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
    expect(location.searchParams.get("state")).toBe("st-8252");
    expect(location.searchParams.get("code")).toBeNull();
  });

  it.each<[string, Record<string, string>, string]>([
    ["response_type=token", { response_type: "token" }, "unsupported_response_type"],
    ["code_challenge_method=plain", { code_challenge_method: "plain" }, "invalid_request"],
    ["an unknown scope", { scope: "everything" }, "invalid_scope"],
    ["prompt=none without a browser session", { prompt: "none" }, "login_required"],
    ["max_age that is not a number", { max_age: "soon" }, "invalid_request"],
  ])("%s → %s with iss", async (_name, params, error) => {
    const url = new URL(authorizeUrl(REGISTERED), ORIGIN);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const res = await call(`${url.pathname}${url.search}`, { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe(error);
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
  });
});

describe("RFC 8707 §2: a resource is the exact resource URI; a near miss on a path boundary is invalid_target", () => {
  const nearMisses = [`${ORIGIN}/mcpx`, `${ORIGIN}/mcp/`, `${ORIGIN}/mcp/admin`, `${ORIGIN}/mc`, ORIGIN, `${ORIGIN}/`, `${ORIGIN}/mcp?x=1`, "https://warden.test.evil.example/mcp", "http://warden.test/mcp"];

  it.each(nearMisses)("/authorize with resource=%s redirects with invalid_target, state and iss", async (resource) => {
    const url = new URL(authorizeUrl(REGISTERED), ORIGIN);
    url.searchParams.set("resource", resource);
    const res = await call(`${url.pathname}${url.search}`, { redirect: "manual" });
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("invalid_target");
    expect(location.searchParams.get("state")).toBe("st-8252");
    expect(location.searchParams.get("iss")).toBe(ORIGIN);
  });

  it.each(nearMisses)("/token with resource=%s is 400 invalid_target", async (resource) => {
    const res = await call("/token", form({ grant_type: "authorization_code", client_id: clientId, code: "x", redirect_uri: REGISTERED, code_verifier: "v".repeat(43), resource }));
    expect(res.status).toBe(400);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toMatchObject({ error: "invalid_target" });
  });
});
