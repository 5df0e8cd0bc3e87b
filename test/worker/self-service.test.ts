// Self-service session and consent management in the account object: ending a session or
// withdrawing a consent is an event, kills the refresh tokens, and the session stops being
// live at once.

import { describe, expect, it } from "vitest";
import { issueSession, meta, registeredAccount } from "./helpers.ts";

const issue = (stub: Awaited<ReturnType<typeof registeredAccount>>["stub"], clientId: string) => issueSession(stub, { clientId });

describe("self-service sessions (MCP tool revoke_session, RFC 7009 semantics)", () => {
  it("ends the session at once and kills its refresh token; other sessions live on", async () => {
    const { stub } = await registeredAccount();
    const one = await issue(stub, "client-a");
    const two = await issue(stub, "client-a");
    expect((await stub.listSessions(Date.now())).map((s) => s.sessionId).sort()).toEqual([one.sessionId, two.sessionId].sort());

    const revoked = await stub.revokeSession(one.sessionId, meta());
    expect(revoked.ok && revoked.events.map((e) => [e.type, e.data])).toEqual([
      ["SessionRevoked", { _tag: "SessionRevoked", sessionId: one.sessionId, reason: "user_request" }],
    ]);
    expect(await stub.session(one.sessionId, Date.now())).toMatchObject({ live: false, reason: "revoked" });
    expect(await stub.refresh({ refreshToken: one.refreshToken, clientId: "client-a", scopes: null }, meta())).toEqual({ ok: false, reason: "session_not_live" });
    expect(await stub.session(two.sessionId, Date.now())).toMatchObject({ live: true });
    expect((await stub.listSessions(Date.now())).map((s) => s.sessionId)).toEqual([two.sessionId]);
  });

  it("refuses a session id that is not this account's, and changes nothing", async () => {
    const { stub } = await registeredAccount();
    const result = await stub.revokeSession(crypto.randomUUID(), meta());
    expect(result).toMatchObject({ ok: false, error: "SessionNotLive" });
    expect((await stub.events(null, 100)).some((e) => e.type === "SessionRevoked")).toBe(false);
  });
});

describe("self-service consents (MCP tool revoke_consent)", () => {
  it("withdraws one client's consent and ends that client's sessions only", async () => {
    const { stub } = await registeredAccount();
    const a = await issue(stub, "client-a");
    const b = await issue(stub, "client-b");
    expect((await stub.listConsents()).map((c) => c.clientId).sort()).toEqual(["client-a", "client-b"]);

    const result = await stub.revokeConsent("client-a", meta());
    expect(result.ok && result.events.map((e) => e.type)).toEqual(["ConsentRevoked", "SessionRevoked"]);
    expect(await stub.session(a.sessionId, Date.now())).toMatchObject({ live: false });
    expect(await stub.refresh({ refreshToken: a.refreshToken, clientId: "client-a", scopes: null }, meta())).toMatchObject({ ok: false });
    expect(await stub.session(b.sessionId, Date.now())).toMatchObject({ live: true });
    expect((await stub.listConsents()).map((c) => c.clientId)).toEqual(["client-b"]);

    // Withdrawing again finds nothing to withdraw: quiet, no events.
    const again = await stub.revokeConsent("client-a", meta());
    expect(again).toMatchObject({ ok: true, events: [] });
  });
});
