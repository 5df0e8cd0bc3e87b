// RFC 6750 §3 + RFC 9728 §5.1 at /mcp: no token, a malformed header, or any token that is
// not one we issued for this resource (forged, wrong audience, expired) is a 401 with a
// Bearer challenge that lets the client discover where to get a proper one.

import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { accountStub, call, codeRequest, issueSession, meta, ORIGIN, registeredAccount, RESOURCE, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

/** The key the server signs with now (its private half: only the server should hold it). */
const keys = async () => {
  const set = await env.KEYS.get(env.KEYS.idFromName("signing-keys")).keySet();
  return { kid: set.signing.kid, privateJwk: set.signing.privateJwk, publicJwk: set.verifying[0]!.publicJwk };
};

const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: ORIGIN,
  aud: RESOURCE,
  sub: crypto.randomUUID(),
  sid: crypto.randomUUID(),
  client_id: "client-x",
  scope: "account:read",
  jti: crypto.randomUUID(),
  iat: Math.floor(Date.now() / 1000),
  exp: Math.floor(Date.now() / 1000) + 600,
  ...overrides,
});

/** Signs with the server's real private key, as only the server should. */
async function realToken(payload: JWTPayload, header: { typ?: string } = {}) {
  const { privateJwk, kid } = await keys();
  const key = await importJWK(privateJwk, "ES256");
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid, ...header }).sign(key);
}

const mcpRequest = (authorization?: string) =>
  call("/mcp", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });

const challengeOf = (res: Response) => res.headers.get("www-authenticate") ?? "";
const METADATA = `resource_metadata="${ORIGIN}/.well-known/oauth-protected-resource/mcp"`;

describe("RFC 9728 §5.1: a request without a token is challenged with the resource metadata URL", () => {
  it("no Authorization header → 401 Bearer challenge with resource_metadata and no error code", async () => {
    const res = await mcpRequest();
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toMatch(/^Bearer /);
    expect(challengeOf(res)).toContain(METADATA);
    expect(challengeOf(res)).not.toContain("error=");
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  it("a non-Bearer Authorization header → 401 error=\"invalid_request\"", async () => {
    const res = await mcpRequest("Basic dXNlcjpwYXNz");
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_request"');
    expect(challengeOf(res)).toContain(METADATA);
  });
});

/** A JWT assembled by hand, for headers no honest library would write (alg spellings, hostile kid). */
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const handmade = (header: Record<string, unknown>, payload: JWTPayload, signature = "") => `${b64(header)}.${b64(payload)}.${signature}`;

/** Signed with the server's real key over a header no library would produce (RFC 7515 §5.1 by hand). */
async function signedByHand(header: Record<string, unknown>, payload: JWTPayload) {
  const key = (await importJWK((await keys()).privateJwk, "ES256")) as CryptoKey;
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

/** Signed with an attacker's own key pair, with whatever header the attacker chooses. */
async function attackerToken(payload: JWTPayload, header: Record<string, unknown>) {
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "at+jwt", ...header, ...(header.jwk === true ? { jwk } : {}) }).sign(privateKey);
}

describe("RFC 8725 §3 + RFC 9068 §4: a token we did not issue for this resource → 401 error=\"invalid_token\"", () => {
  // Every forgery names a LIVE session, so a forgery that got past verification would be
  // served (200): the table cannot pass by accident of the session check.
  let live: JWTPayload = {};
  beforeAll(async () => {
    const { accountId, stub } = await registeredAccount();
    const issued = await issueSession(stub);
    live = { sub: accountId, sid: issued.sessionId, client_id: issued.clientId };
  });
  const liveClaims = (overrides: JWTPayload = {}) => claims({ ...live, ...overrides });
  const realKid = async () => (await keys()).kid;

  const forgeries: Array<{ name: string; token: () => Promise<string> }> = [
    // RFC 8725 §3.1: "none" in any spelling, with or without a signature part.
    ...["none", "None", "NONE", "nOnE"].map((alg) => ({ name: `alg "${alg}" without a signature`, token: async () => handmade({ alg, typ: "at+jwt", kid: await realKid() }, liveClaims()) })),
    { name: "alg none from the library (UnsecuredJWT)", token: async () => new UnsecuredJWT(liveClaims()).encode() },
    { name: 'alg "none" carrying the real signature of another token', token: async () => handmade({ alg: "none", typ: "at+jwt", kid: await realKid() }, liveClaims(), (await realToken(liveClaims())).split(".")[2]) },
    // RFC 8725 §3.1-3.2: algorithm confusion.
    {
      name: "HS256 signed with a random key, carrying the real kid",
      token: async () => new SignJWT(liveClaims()).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: await realKid() }).sign(randomBytes(32)),
    },
    {
      name: "HS256 signed with the public key's JSON as the secret (alg confusion)",
      token: async () =>
        new SignJWT(liveClaims()).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: await realKid() })
          .sign(new TextEncoder().encode(JSON.stringify((await keys()).publicJwk))),
    },
    { name: "ES256 signed with another key pair, carrying the real kid", token: async () => attackerToken(liveClaims(), { kid: await realKid() }) },
    // RFC 8725 §3.10 / RFC 7515 §4.1.2-4.1.6: keys and key URLs in the header are never trusted.
    { name: "an embedded jwk header of the attacker's key", token: () => attackerToken(liveClaims(), { jwk: true }) },
    { name: "a jku header pointing at the attacker's key set", token: () => attackerToken(liveClaims(), { jku: "https://attacker.example/jwks.json", kid: "attacker" }) },
    { name: "an x5u header pointing at the attacker's certificate", token: () => attackerToken(liveClaims(), { x5u: "https://attacker.example/cert.pem", kid: "attacker" }) },
    { name: "an x5c header with a certificate chain", token: () => attackerToken(liveClaims(), { x5c: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"] }) },
    // Unknown and hostile key ids: looked up in our own key set only, never used as a path or query.
    { name: "an unknown kid", token: () => attackerToken(liveClaims(), { kid: crypto.randomUUID() }) },
    { name: "no kid at all", token: () => attackerToken(liveClaims(), {}) },
    { name: "a path-traversal kid", token: () => attackerToken(liveClaims(), { kid: "../../../../dev/null" }) },
    { name: "an SQL-injection kid", token: () => attackerToken(liveClaims(), { kid: "' OR '1'='1" }) },
    { name: "a 10,000-character kid", token: () => attackerToken(liveClaims(), { kid: "k".repeat(10_000) }) },
    { name: "a kid that is an object, not a string", token: async () => handmade({ alg: "ES256", typ: "at+jwt", kid: { $ne: null } }, liveClaims(), "AAAA") },
    { name: "the real key, but an unknown critical header (RFC 7515 §4.1.11)", token: async () => signedByHand({ alg: "ES256", typ: "at+jwt", kid: await realKid(), crit: ["warden-unknown"], "warden-unknown": true }, liveClaims()) },
    // RFC 9068 §4: typ, issuer, audience, lifetime.
    { name: "the real key, but typ JWT (not an access token)", token: () => realToken(liveClaims(), { typ: "JWT" }) },
    { name: "the real key, but no typ", token: () => realToken(liveClaims(), { typ: undefined }) },
    { name: "the real key, but from another issuer", token: () => realToken(liveClaims({ iss: "https://other.example" })) },
    { name: "the real key, but for another audience", token: () => realToken(liveClaims({ aud: "https://other.example/mcp" })) },
    // RFC 8707 §2: the audience is the resource URI itself; a string prefix is not a match.
    ...[`${RESOURCE}-evil`, `${RESOURCE}x`, `${RESOURCE}/`, `${RESOURCE}/admin`, ORIGIN, `${ORIGIN}/`, `${RESOURCE}?x=1`, `${RESOURCE}#x`, RESOURCE.toUpperCase()].map((aud) => ({
      name: `the real key, but audience ${aud} (path boundary)`,
      token: () => realToken(liveClaims({ aud })),
    })),
    { name: "the real key, but expired", token: () => realToken(liveClaims({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 600 })) },
    { name: "the real key, but not valid yet (nbf in an hour)", token: () => realToken(liveClaims({ nbf: Math.floor(Date.now() / 1000) + 3600 })) },
    { name: "the real key, but without exp", token: () => realToken(liveClaims({ exp: undefined })) },
    { name: "the real key, but without sid", token: () => realToken(liveClaims({ sid: undefined })) },
    { name: "a truncated signature", token: async () => (await realToken(liveClaims())).slice(0, -10) },
    { name: "a signature from another token of ours", token: async () => {
      const [header, payload] = (await realToken(liveClaims({ scope: "account:read account:manage" }))).split(".");
      return `${header}.${payload}.${(await realToken(liveClaims())).split(".")[2]}`;
    } },
  ];

  it.each(forgeries)("$name", async ({ token }) => {
    const res = await mcpRequest(`Bearer ${await token()}`);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
    expect(challengeOf(res)).toContain(METADATA);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_token");
    expect(body.error_description).toBe("the access token is invalid or expired");
  });

  it("control: the same real-key token with the right claims for the live session is served", async () => {
    const res = await mcpRequest(`Bearer ${await realToken(liveClaims())}`);
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it("control: a token signed by hand with the real key and an ordinary header is served (so the crit case fails on crit alone)", async () => {
    const res = await mcpRequest(`Bearer ${await signedByHand({ alg: "ES256", typ: "at+jwt", kid: await realKid() }, liveClaims())}`);
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it("control: a real-key token for an unknown session passes verification and is refused by the session check", async () => {
    const res = await mcpRequest(`Bearer ${await realToken(claims())}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_description: string }).error_description).toBe("the session is unknown");
  });
});

describe("RFC 7009 §2.1 + MCP authorization: revocation takes effect on the next request", () => {
  it("a valid token for a live session is served; after the session is revoked the same token is refused", async () => {
    const { accountId, stub } = await registeredAccount();
    const request = codeRequest();
    const approved = await stub.approve(request, meta());
    if (!approved.ok) throw new Error(approved.reason);
    const grant = { code: approved.value.code, clientId: request.clientId, redirectUri: request.redirectUri, challengeOfVerifier: request.codeChallenge };
    const issued = await stub.redeemCode(grant, meta());
    if (!issued.ok) throw new Error(issued.reason);
    const token = await realToken(claims({ sub: accountId, sid: issued.value.sessionId, client_id: request.clientId }));

    const live = await mcpRequest(`Bearer ${token}`);
    expect(live.status).toBe(200);
    await live.body?.cancel();

    await accountStub(accountId).redeemCode(grant, meta()); // code reuse revokes the session
    const revoked = await mcpRequest(`Bearer ${token}`);
    expect(revoked.status).toBe(401);
    expect(challengeOf(revoked)).toContain('error="invalid_token"');
  });
});
