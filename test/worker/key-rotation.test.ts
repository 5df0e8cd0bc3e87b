// Signing-key rotation: a new key signs, the retired one still verifies (and stays in JWKS)
// for the overlap window, and after it tokens signed by the retired key stop verifying.

import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { importJWK, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { forgetKeys } from "../../src/keys.ts";
import { OVERLAP_MS, ROTATE_EVERY_MS, type SigningKeysObject } from "../../src/objects/signing-keys-object.ts";
import { call, ORIGIN, registeredAccount, RESOURCE, startSession, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const keysStub = () => env.KEYS.get(env.KEYS.idFromName("signing-keys"));

/** An access token for a live session, signed with the key the server signs with right now. */
async function liveToken() {
  const { accountId, stub } = await registeredAccount();
  const sessionId = await startSession(stub);
  const set = await keysStub().keySet();
  const key = await importJWK(set.signing.privateJwk, "ES256");
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: accountId, sid: sessionId, client_id: "client-x", scope: "account:read", jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: set.signing.kid })
    .setIssuer(ORIGIN).setAudience(RESOURCE).setIssuedAt(now).setExpirationTime(now + 600)
    .sign(key);
  return { token, kid: set.signing.kid };
}

const mcpStatus = async (token: string) =>
  (await call("/mcp", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  })).status;

const publishedKids = async () => ((await (await call("/.well-known/jwks.json")).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);

describe("RFC 7517 key sets: rotation with an overlap window", () => {
  it("on demand: the new key signs, the old key still verifies and both are published", async () => {
    const before = await liveToken();
    const rotated = await keysStub().rotate();
    forgetKeys();
    expect(rotated.signing.kid).not.toBe(before.kid);
    expect((await publishedKids()).slice(0, 2)).toEqual([rotated.signing.kid, before.kid]);
    const after = await liveToken();
    expect(after.kid).toBe(rotated.signing.kid);
    expect(await mcpStatus(before.token)).toBe(200);
    expect(await mcpStatus(after.token)).toBe(200);
  });

  it("after the overlap a retired key is gone from JWKS and its tokens stop verifying", async () => {
    const old = await liveToken();
    await keysStub().rotate();
    await runInDurableObject(keysStub(), (_i: SigningKeysObject, state) => {
      state.storage.sql.exec("UPDATE keys SET retired_at = ? WHERE kid = ?", Date.now() - OVERLAP_MS - 1_000, old.kid);
    });
    forgetKeys();
    expect(await publishedKids()).not.toContain(old.kid);
    expect(await mcpStatus(old.token)).toBe(401);
    expect(await mcpStatus((await liveToken()).token)).toBe(200);
  });

  it("scheduled: the alarm rotates a key older than the rotation period, and only then", async () => {
    const { signing } = await keysStub().keySet();
    await runInDurableObject(keysStub(), (_i: SigningKeysObject, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(keysStub());
    expect((await keysStub().keySet()).signing.kid).toBe(signing.kid); // still young: no rotation
    await runInDurableObject(keysStub(), (_i: SigningKeysObject, state) => {
      state.storage.sql.exec("UPDATE keys SET created_at = ? WHERE kid = ?", Date.now() - ROTATE_EVERY_MS - 1_000, signing.kid);
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(keysStub());
    const next = await keysStub().keySet();
    expect(next.signing.kid).not.toBe(signing.kid);
    expect(next.verifying.map((k) => k.kid)).toContain(signing.kid);
  });
});
