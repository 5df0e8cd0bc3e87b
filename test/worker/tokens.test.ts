// Token operations inside the AccountObject (approve → redeemCode → refresh), through its
// RPC surface. Grouped by the RFC section each property comes from.

import { runInDurableObject } from "cloudflare:test";
import { REFRESH_GRACE_MS } from "../../src/objects/account-tokens.ts";
import { describe, expect, it } from "vitest";
import type { AccountObject } from "../../src/objects/account-object.ts";
import { accountStub, codeRequest, meta, pkcePair, registeredAccount } from "./helpers.ts";

type Stub = ReturnType<typeof accountStub>;

/** A registered account with one issued (not yet redeemed) code. */
async function withCode() {
  const account = await registeredAccount();
  const request = codeRequest();
  const approved = await account.stub.approve(request, meta());
  if (!approved.ok) throw new Error(approved.reason);
  const grant = { code: approved.value.code, clientId: request.clientId, redirectUri: request.redirectUri, challengeOfVerifier: request.codeChallenge };
  return { ...account, request, code: approved.value.code, grant };
}

/** A registered account with a live session and its first refresh token. */
async function withSession() {
  const setup = await withCode();
  const issued = await setup.stub.redeemCode(setup.grant, meta());
  if (!issued.ok) throw new Error(issued.reason);
  return { ...setup, session: issued.value };
}

const eventTypes = async (stub: Stub) => (await stub.events(null, 100)).map((e) => e.type).reverse();
const isLive = async (stub: Stub, sessionId: string) => (await stub.session(sessionId, Date.now())).live;

describe("RFC 6749 §4.1.2: an authorization code is single-use", () => {
  it("issues a session with a refresh token on the first redemption", async () => {
    const { stub, accountId, request, session } = await withSession();
    expect(session).toMatchObject({ accountId, clientId: request.clientId, scopes: ["account:read"], resource: request.resource });
    expect(session.refreshToken.startsWith(`${accountId}.`)).toBe(true);
    expect(await isLive(stub, session.sessionId)).toBe(true);
  });

  it("refuses a reused code and revokes the session it issued", async () => {
    const { stub, grant, session } = await withSession();
    expect(await stub.redeemCode(grant, meta())).toEqual({ ok: false, reason: "code_reused" });
    expect(await stub.session(session.sessionId, Date.now())).toEqual({ live: false, reason: "revoked" });
    const revoked = (await stub.events(null, 1))[0]!;
    expect(revoked.data).toEqual({ _tag: "SessionRevoked", sessionId: session.sessionId, reason: "authorization_code_reused" });
    expect(revoked.metadata.actor.kind).toBe("system");
    // The refresh token issued with that code is dead too.
    const refreshed = await stub.refresh({ refreshToken: session.refreshToken, clientId: session.clientId, scopes: null }, meta());
    expect(refreshed.ok).toBe(false);
  });

  it("issues at most one code per consent ticket", async () => {
    const { stub, request } = await withCode();
    expect(await stub.approve(request, meta())).toEqual({ ok: false, reason: "ticket_used" });
  });
});

describe("RFC 7636 §4.6: the code_verifier must match the code_challenge", () => {
  it("a wrong verifier is refused and burns the code, so the right verifier fails afterwards", async () => {
    const { stub, grant } = await withCode();
    const wrong = { ...grant, challengeOfVerifier: pkcePair().challenge };
    expect(await stub.redeemCode(wrong, meta())).toEqual({ ok: false, reason: "pkce_mismatch" });
    expect((await stub.redeemCode(grant, meta())).ok).toBe(false);
    expect(await eventTypes(stub)).not.toContain("SessionStarted");
  });
});

describe("RFC 6749 §4.1.3: a code is bound to its client and redirect_uri", () => {
  it("a code presented by another client is refused and changes nothing; its client can still redeem it", async () => {
    const { stub, grant } = await withCode();
    const before = await eventTypes(stub);
    expect(await stub.redeemCode({ ...grant, clientId: "client-attacker" }, meta())).toEqual({ ok: false, reason: "client_mismatch" });
    expect(await eventTypes(stub)).toEqual(before);
    expect((await stub.redeemCode(grant, meta())).ok).toBe(true);
  });

  it("a code presented with another redirect_uri is refused and changes nothing; the right one still redeems it", async () => {
    const { stub, grant } = await withCode();
    const before = await eventTypes(stub);
    const elsewhere = { ...grant, redirectUri: "http://127.0.0.1:33418/evil" };
    expect(await stub.redeemCode(elsewhere, meta())).toEqual({ ok: false, reason: "redirect_mismatch" });
    expect(await eventTypes(stub)).toEqual(before);
    expect((await stub.redeemCode(grant, meta())).ok).toBe(true);
  });
});

describe("OAuth 2.1 §4.1.2: codes are short-lived", () => {
  it("refuses an expired code", async () => {
    const { stub, grant } = await withCode();
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      state.storage.sql.exec("UPDATE auth_codes SET expires_at = ?", Date.now() - 1000);
    });
    expect(await stub.redeemCode(grant, meta())).toEqual({ ok: false, reason: "code_expired" });
    expect(await eventTypes(stub)).not.toContain("SessionStarted");
  });
});

describe("RFC 9700 §4.14.2: refresh tokens rotate and reuse is detected", () => {
  it("a refresh returns a new token; the old one after the grace window fails with refresh_reused and revokes the session", async () => {
    const { stub, session } = await withSession();
    const input = { refreshToken: session.refreshToken, clientId: session.clientId, scopes: null };
    const rotated = await stub.refresh(input, meta());
    if (!rotated.ok) throw new Error(rotated.reason);
    expect(rotated.value.sessionId).toBe(session.sessionId);
    expect(rotated.value.refreshToken).not.toBe(session.refreshToken);
    expect(await isLive(stub, session.sessionId)).toBe(true);

    expect(await stub.refresh(input, meta(Date.now() + REFRESH_GRACE_MS + 1_000))).toEqual({ ok: false, reason: "refresh_reused" });
    expect(await stub.session(session.sessionId, Date.now())).toEqual({ live: false, reason: "revoked" });
    // Neither holder keeps access: the newest token is dead as well.
    const newest = await stub.refresh({ ...input, refreshToken: rotated.value.refreshToken }, meta());
    expect(newest.ok).toBe(false);
  });

  it("a retry inside the grace window gets the same successor, and no second rotation is recorded", async () => {
    const { stub, session } = await withSession();
    const input = { refreshToken: session.refreshToken, clientId: session.clientId, scopes: null };
    const first = await stub.refresh(input, meta());
    const retry = await stub.refresh(input, meta(Date.now() + REFRESH_GRACE_MS - 5_000));
    expect(first.ok && retry.ok && retry.value.refreshToken).toBe(first.ok && first.value.refreshToken);
    expect((await eventTypes(stub)).filter((t) => t === "TokenRefreshed")).toHaveLength(1);
    expect(await isLive(stub, session.sessionId)).toBe(true);
  });

  it("once the successor has itself been used, the old token is reuse even inside the grace window", async () => {
    const { stub, session } = await withSession();
    const input = { refreshToken: session.refreshToken, clientId: session.clientId, scopes: null };
    const second = await stub.refresh(input, meta());
    if (!second.ok) throw new Error(second.reason);
    const third = await stub.refresh({ ...input, refreshToken: second.value.refreshToken }, meta());
    expect(third.ok).toBe(true);
    expect(await stub.refresh(input, meta())).toEqual({ ok: false, reason: "refresh_reused" });
    expect(await stub.session(session.sessionId, Date.now())).toEqual({ live: false, reason: "revoked" });
  });

  it("concurrent refreshes with one token all get the same successor: the honest client never fails, the family never forks", async () => {
    const { stub, session } = await withSession();
    const input = { refreshToken: session.refreshToken, clientId: session.clientId, scopes: null };
    const results = await Promise.all(Array.from({ length: 10 }, () => stub.refresh(input, meta())));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(new Set(results.map((r) => (r.ok ? r.value.refreshToken : null))).size).toBe(1);
    const types = await eventTypes(stub);
    expect(types.filter((t) => t === "TokenRefreshed")).toHaveLength(1);
    expect(types.filter((t) => t === "SessionRevoked")).toHaveLength(0);
  });

  it("a refresh cannot widen the scopes, and the refused attempt leaves the token usable", async () => {
    const { stub, session } = await withSession();
    const input = { refreshToken: session.refreshToken, clientId: session.clientId };
    const wider = await stub.refresh({ ...input, scopes: ["account:read", "account:admin"] }, meta());
    expect(wider).toEqual({ ok: false, reason: "scope_widened" });
    const same = await stub.refresh({ ...input, scopes: ["account:read"] }, meta());
    expect(same.ok && same.value.scopes).toEqual(["account:read"]);
  });

  it("a refresh token presented by another client is refused and the session stays live", async () => {
    const { stub, session } = await withSession();
    const stolen = await stub.refresh({ refreshToken: session.refreshToken, clientId: "client-attacker", scopes: null }, meta());
    expect(stolen).toEqual({ ok: false, reason: "client_mismatch" });
    expect(await isLive(stub, session.sessionId)).toBe(true);
  });
});

describe("codes and refresh tokens never enter events", () => {
  it("no event row contains a code, a refresh token or their secret parts", async () => {
    const { stub, code, session } = await withSession();
    const rotated = await stub.refresh({ refreshToken: session.refreshToken, clientId: session.clientId, scopes: null }, meta());
    if (!rotated.ok) throw new Error(rotated.reason);
    const rows = await runInDurableObject(stub, (_i: AccountObject, state) =>
      state.storage.sql.exec<{ data: string; metadata: string }>("SELECT data, metadata FROM events").toArray(),
    );
    const secrets = [code, session.refreshToken, rotated.value.refreshToken].map((t) => t.split(".")[1]!);
    for (const row of rows) for (const secret of secrets) expect(row.data + row.metadata).not.toContain(secret);
  });
});
