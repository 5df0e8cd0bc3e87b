// RFC 6750 §3 + RFC 9728 §5.1 at /mcp: no token, a malformed header, or any token that is
// not one we issued for this resource (forged, wrong audience, expired) is a 401 with a
// Bearer challenge that lets the client discover where to get a proper one.

import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { accountStub, call, codeRequest, meta, ORIGIN, registeredAccount, RESOURCE, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

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

describe("RFC 8725 §3: a token we did not issue for this resource → 401 error=\"invalid_token\"", () => {
  const forgeries: Array<{ name: string; token: () => Promise<string> }> = [
    { name: "alg none", token: async () => new UnsecuredJWT(claims()).encode() },
    {
      name: "HS256 signed with a random key, carrying the real kid",
      token: async () => new SignJWT(claims()).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: (await keys()).kid }).sign(randomBytes(32)),
    },
    {
      name: "HS256 signed with the public key's JSON as the secret (alg confusion)",
      token: async () =>
        new SignJWT(claims()).setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: (await keys()).kid })
          .sign(new TextEncoder().encode(JSON.stringify((await keys()).publicJwk))),
    },
    {
      name: "ES256 signed with another key pair, carrying the real kid",
      token: async () => {
        const { privateKey } = await generateKeyPair("ES256");
        return new SignJWT(claims()).setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: (await keys()).kid }).sign(privateKey);
      },
    },
    {
      name: "ES256 with an embedded jwk header of the attacker's key",
      token: async () => {
        const { privateKey, publicKey } = await generateKeyPair("ES256");
        return new SignJWT(claims()).setProtectedHeader({ alg: "ES256", typ: "at+jwt", jwk: await exportJWK(publicKey) }).sign(privateKey);
      },
    },
    { name: "the real key, but for another audience", token: () => realToken(claims({ aud: "https://other.example/mcp" })) },
    { name: "the real key, but from another issuer", token: () => realToken(claims({ iss: "https://other.example" })) },
    { name: "the real key, but expired", token: () => realToken(claims({ iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) - 600 })) },
    { name: "the real key, but typ JWT (not an access token)", token: () => realToken(claims(), { typ: "JWT" }) },
    { name: "the real key, but without sid", token: () => realToken(claims({ sid: undefined })) },
    { name: "a truncated signature", token: async () => (await realToken(claims())).slice(0, -10) },
  ];

  it.each(forgeries)("$name", async ({ token }) => {
    const res = await mcpRequest(`Bearer ${await token()}`);
    expect(res.status).toBe(401);
    expect(challengeOf(res)).toContain('error="invalid_token"');
    expect(challengeOf(res)).toContain(METADATA);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_token");
  });

  it("control: the same real-key token for the right audience passes verification and reaches the session check", async () => {
    const res = await mcpRequest(`Bearer ${await realToken(claims())}`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error_description: string }).error_description).toBe("the session is unknown");
  });
});

describe("revocation takes effect on the next request", () => {
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
