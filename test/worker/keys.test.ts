// The server's signing key (src/objects/signing-keys-object.ts): generated once, kept in the
// object's SQLite storage, and reused when the object restarts, so published keys and issued
// tokens outlive an eviction.
//
// The Worker caches the key material per isolate (src/keys.ts), so /.well-known/jwks.json and
// /mcp alone would pass even if the object forgot its key; each test therefore also asks the
// restarted object itself what it holds.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { SigningKeysObject } from "../../src/objects/signing-keys-object.ts";
import { answerConsent, call, consentFormOf, form, freshEmail, ORIGIN, pkcePair, registerClient, RESOURCE, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

const REDIRECT = "http://127.0.0.1:33418/callback";
let clientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REDIRECT]);
}, WARM_UP_TIMEOUT_MS);

const keysStub = () => env.KEYS.get(env.KEYS.idFromName("signing-keys"));
/** The signing key as the object reports it: kid, private and public halves, ticket secret. */
const material = async () => {
  const set = await keysStub().keySet();
  return { kid: set.signing.kid, privateJwk: set.signing.privateJwk, publicJwk: set.verifying[0]!.publicJwk, ticketSecret: set.ticketSecret };
};

type Marked = { restartMarker?: string };
const markerOf = (stub: ReturnType<typeof keysStub>) =>
  runInDurableObject(stub, (instance: SigningKeysObject) => (instance as unknown as Marked).restartMarker);

/**
 * Evicts the object (after making sure it is running: eviction rejects otherwise) and checks
 * that the instance answering afterwards is a new one, by a field set on the old instance.
 */
async function restartKeysObject() {
  const stub = keysStub();
  await stub.keySet();
  const marker = crypto.randomUUID();
  await runInDurableObject(stub, (instance: SigningKeysObject) => {
    (instance as unknown as Marked).restartMarker = marker;
  });
  expect(await markerOf(stub)).toBe(marker);
  await evictDurableObject(stub);
  expect(await markerOf(stub)).toBeUndefined();
}

const publishedKeys = async () => {
  const res = await call("/.well-known/jwks.json");
  expect(res.status).toBe(200);
  return ((await res.json()) as { keys: JWK[] }).keys;
};

const mcpToolsList = (accessToken: string) =>
  call("/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });

/** A real access token, the way a client gets one: /authorize → sign up → consent → /token. */
async function issuedAccessToken(): Promise<string> {
  const { verifier, challenge } = pkcePair();
  const query = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: REDIRECT, state: "st",
    code_challenge: challenge, code_challenge_method: "S256", scope: "account:read", resource: RESOURCE,
  });
  const signIn = await (await call(`/authorize?${query}`)).text();
  const request = /name="request" value="([^"]+)"/.exec(signIn)?.[1];
  expect(request).toBeTruthy();
  const consent = await call("/signup", form({ email: freshEmail(), password: "plum-Quartz-7-harbour", request: request! }));
  expect(consent.status).toBe(200);
  const allowed = await answerConsent(await consentFormOf(consent), "allow");
  expect(allowed.status).toBe(302);
  const code = new URL(allowed.headers.get("location")!).searchParams.get("code")!;
  const res = await call("/token", form({ grant_type: "authorization_code", client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier }));
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

describe("RFC 7517 §5: the published key set", () => {
  it("publishes one ES256 P-256 public key, without its private part, under its RFC 7638 thumbprint", async () => {
    const [key, ...others] = await publishedKeys();
    expect(others).toEqual([]);
    expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(key).not.toHaveProperty("d");
    const { kid, alg: _alg, use: _use, ...bare } = key!;
    expect(kid).toBe(await calculateJwkThumbprint(bare));
  });

  it("publishes the key the object signs with", async () => {
    const signing = await material();
    // Retired keys inside their overlap may follow; the signing key comes first.
    expect((await publishedKeys())[0]).toEqual(signing.publicJwk);
    expect(signing.publicJwk.kid).toBe(signing.kid);
  });
});

describe("the signing key is generated once and reused across a restart of its object", () => {
  it("the object reloads the same key pair and ticket secret from storage after eviction", async () => {
    const before = await material();
    await restartKeysObject();
    const after = await material();
    expect(after).toEqual(before);
  });

  it("/.well-known/jwks.json serves the same kid and public key before and after the restart", async () => {
    const before = await publishedKeys();
    await restartKeysObject();
    const after = await publishedKeys();
    expect(after).toEqual(before);
    expect(after[0]!.kid).toBe(before[0]!.kid);
    expect((await material()).publicJwk).toEqual(before[0]);
  });

  it("a token issued through /token before the restart still verifies at /mcp and against the reloaded key", async () => {
    const token = await issuedAccessToken();
    await restartKeysObject();

    const reloaded = await material();
    expect(decodeProtectedHeader(token).kid).toBe(reloaded.kid);
    const { payload } = await jwtVerify(token, await importJWK(reloaded.publicJwk, "ES256"), {
      algorithms: ["ES256"], typ: "at+jwt", issuer: ORIGIN, audience: RESOURCE,
    });
    expect(payload).toMatchObject({ client_id: clientId, scope: "account:read" });

    const res = await mcpToolsList(token);
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  it("a token issued after the restart verifies against the key published before it", async () => {
    const [published] = await publishedKeys();
    await restartKeysObject();
    const token = await issuedAccessToken();
    await expect(jwtVerify(token, await importJWK(published!, "ES256"), { algorithms: ["ES256"] })).resolves.toBeTruthy();
    expect(decodeProtectedHeader(token).kid).toBe(published!.kid);
  });
});
