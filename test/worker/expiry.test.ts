// Time-bound roles and session expiry driven by the account's alarm, inside workerd: a
// role stops counting at its expiry whether or not the alarm has run; the alarm records
// each expiry exactly once however often it runs; closing an account cancels pending work
// while its last events still reach the directory.

import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SYSTEM, type StoredEvent } from "../../domain/events.ts";
import type { AccountObject } from "../../src/objects/account-object.ts";
import { allEvents, directoryShard, drainOutbox, meta, registeredAccount, type AccountStub } from "./helpers.ts";

const sleepUntil = async (at: number) => {
  while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, Math.max(5, at - Date.now() + 5)));
};
/** The alarm as the runtime runs it (if one is pending), then the handler run twice more. */
const runAlarmThrice = async (stub: AccountStub) => {
  await runDurableObjectAlarm(stub);
  await runInDurableObject(stub, (o: AccountObject) => o.alarm());
  await runInDurableObject(stub, (o: AccountObject) => Promise.all([o.alarm(), o.alarm()]));
};
const ofType = (events: StoredEvent[], type: StoredEvent["type"]) => events.filter((e) => e.type === type);
const alarmAt = (stub: AccountStub) => runInDurableObject(stub, (_o: AccountObject, state) => state.storage.getAlarm());

async function withConsentedSession(stub: AccountStub, accountId: string, expiresAt: number) {
  const actor = { kind: "user" as const, id: accountId };
  const sessionId = crypto.randomUUID();
  const result = await stub.execute(
    [
      { command: { _tag: "GrantConsent", clientId: "c", clientName: "C", redirectHost: "h", scopes: ["read"] }, actor },
      { command: { _tag: "StartSession", sessionId, clientId: "c", scopes: ["read"], resource: "r", expiresAt, at: Date.now(), amr: ["pwd"] }, actor },
    ],
    meta(),
  );
  expect(result).toMatchObject({ ok: true, events: [{ type: "ConsentGranted" }, { type: "SessionStarted" }] });
  return sessionId;
}

describe("time-bound roles", () => {
  it("a role stops counting at its expiry, alarm or not; the alarm then records RoleExpired exactly once however often it runs", async () => {
    const { stub, accountId } = await registeredAccount();
    const expiresAt = Date.now() + 400;
    await stub.grantRole({ role: "auditor", reason: "audit week", expiresAt, actor: SYSTEM }, meta());
    expect((await stub.view(expiresAt - 1))!.roles).toEqual(["auditor", "member"]);
    expect((await stub.view(expiresAt))!.roles).toEqual(["member"]);
    expect((await stub.view(expiresAt))!.permissions).not.toContain("audit.read");
    await drainOutbox(stub);
    expect(await alarmAt(stub)).toBe(expiresAt); // re-armed for the expiry once delivery is done

    await sleepUntil(expiresAt);
    expect((await stub.view())!.roles).toEqual(["member"]); // before or after the alarm: same answer
    await runAlarmThrice(stub);
    await evictDurableObject(stub);
    await runAlarmThrice(stub);

    const expired = ofType(await allEvents(stub), "RoleExpired");
    expect(expired.map((e) => e.data)).toEqual([{ _tag: "RoleExpired", role: "auditor" }]);
    expect(expired[0]!.metadata.actor).toEqual(SYSTEM);
    expect((await stub.view(expiresAt - 1))!.roles).toEqual(["member"]); // the recorded expiry is now history
    await drainOutbox(stub);
    expect((await directoryShard(accountId).get(accountId))!.roles).toEqual(["member"]);
    expect(await alarmAt(stub)).toBeNull(); // nothing left to do
  });

  it("a later grant of the same role extends it: the alarm at the old expiry records nothing", async () => {
    const { stub } = await registeredAccount();
    const first = Date.now() + 200;
    await stub.grantRole({ role: "operator", reason: "a", expiresAt: first, actor: SYSTEM }, meta());
    await stub.grantRole({ role: "operator", reason: "b", expiresAt: first + 3_600_000, actor: SYSTEM }, meta());
    await sleepUntil(first);
    await runAlarmThrice(stub);
    expect(ofType(await allEvents(stub), "RoleExpired")).toEqual([]);
    expect((await stub.view())!.roles).toEqual(["operator", "member"]);
  });
});

describe("session expiry", () => {
  it("a session past its expiresAt is not live at once, and the alarm records one SessionExpired", async () => {
    const { stub, accountId } = await registeredAccount();
    const expiresAt = Date.now() + 300;
    const sessionId = await withConsentedSession(stub, accountId, expiresAt);
    expect(await stub.session(sessionId, expiresAt - 1)).toMatchObject({ live: true });
    expect(await stub.session(sessionId, expiresAt)).toEqual({ live: false, reason: "expired" }); // not recorded yet
    await sleepUntil(expiresAt);
    // "expired" until the runtime's own alarm records it, "unknown" once it has (the session left state).
    const after = await stub.session(sessionId, Date.now());
    expect(after.live).toBe(false);
    expect(["expired", "unknown"]).toContain(!after.live && after.reason);
    await runAlarmThrice(stub);
    await evictDurableObject(stub);
    await runAlarmThrice(stub);
    const expired = ofType(await allEvents(stub), "SessionExpired");
    expect(expired.map((e) => e.data)).toEqual([{ _tag: "SessionExpired", sessionId }]);
    // The recorded expiry removed the session from state (it can never be used again), so a
    // token naming it is refused as unknown, even when asked about a time before its expiry.
    expect(await stub.session(sessionId, expiresAt - 1)).toEqual({ live: false, reason: "unknown" });
    expect((await stub.listSessions(expiresAt - 1)).map((s) => s.sessionId)).not.toContain(sessionId);
    await drainOutbox(stub);
    expect((await directoryShard(accountId).get(accountId))!.liveSessions).toEqual([]);
  });

  it("a refreshed session does not expire at its old time", async () => {
    const { stub, accountId } = await registeredAccount();
    const expiresAt = Date.now() + 250;
    const sessionId = await withConsentedSession(stub, accountId, expiresAt);
    const refreshed = await stub.execute(
      [{ command: { _tag: "RefreshSession", sessionId, generation: 0, expiresAt: expiresAt + 3_600_000, at: Date.now() }, actor: SYSTEM }],
      meta(),
    );
    expect(refreshed.ok).toBe(true);
    await sleepUntil(expiresAt);
    await runAlarmThrice(stub);
    expect(ofType(await allEvents(stub), "SessionExpired")).toEqual([]);
    expect(await stub.session(sessionId, Date.now())).toMatchObject({ live: true });
  });
});

describe("closing an account cancels its pending work", () => {
  it("no RoleExpired or SessionExpired after close, even past the expiry; AccountClosed still reaches the directory", async () => {
    const { stub, accountId } = await registeredAccount();
    const expiresAt = Date.now() + 300;
    await stub.grantRole({ role: "admin", reason: "temporary", expiresAt, actor: SYSTEM }, meta());
    await withConsentedSession(stub, accountId, expiresAt);
    const closed = await stub.close({ reason: "user_request", actor: SYSTEM }, meta());
    expect(closed).toMatchObject({ ok: true, events: [{ type: "AccountClosed" }] });
    await sleepUntil(expiresAt);
    await runAlarmThrice(stub);
    await evictDurableObject(stub);
    await runAlarmThrice(stub);
    const events = await allEvents(stub);
    expect(events.at(-1)!.type).toBe("AccountClosed");
    expect(ofType(events, "RoleExpired")).toEqual([]);
    expect(ofType(events, "SessionExpired")).toEqual([]);
    await drainOutbox(stub);
    expect(await directoryShard(accountId).get(accountId)).toMatchObject({ status: "closed", liveSessions: [], lastSeq: events.length });
    expect(await alarmAt(stub)).toBeNull();
    expect(await stub.view()).toMatchObject({ closed: true });
  });
});
