// Progressive lockout in the account object: failures are events, the 5th locks, a locked
// account refuses even the right password, the alarm records the unlock at expiry, an
// operator can lift it, and the directory shows it.

import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { directoryShard, drainOutbox, meta, registeredAccount } from "./helpers.ts";

const types = (r: { ok: boolean; events?: ReadonlyArray<{ type: string }> }) => (r.ok && r.events ? r.events.map((e) => e.type) : []);

describe("NIST SP 800-63B §5.2.2: progressive per-account lockout", () => {
  it("locks on the 5th consecutive failure and refuses the right password while locked", async () => {
    const { stub } = await registeredAccount();
    for (let i = 0; i < 4; i++) expect(types(await stub.recordLogin(false, null, meta()))).toEqual(["LoginFailed"]);
    expect(types(await stub.recordLogin(false, null, meta()))).toEqual(["LoginFailed", "AccountLocked"]);
    const refused = await stub.recordLogin(true, null, meta());
    expect(refused.ok && refused.events.map((e) => e.data)).toEqual([{ _tag: "LoginFailed", reason: "account_locked", failedAttempts: 5 }]);
  });

  it("records the unlock when the lock runs out, once, and then accepts the password", async () => {
    const { stub } = await registeredAccount();
    const start = Date.now() - 61_000; // the failures happened just over a minute ago
    for (let i = 0; i < 5; i++) await stub.recordLogin(false, null, meta(start));
    await runDurableObjectAlarm(stub);
    await runDurableObjectAlarm(stub);
    const unlocks = (await stub.events(null, 100)).filter((e) => e.type === "AccountUnlocked");
    expect(unlocks.map((e) => e.data)).toEqual([{ _tag: "AccountUnlocked", reason: "expired" }]);
    expect(types(await stub.recordLogin(true, null, meta()))).toEqual(["LoginSucceeded"]);
  });

  it("an operator unlock lifts the lock at once; unlocking an unlocked account records nothing", async () => {
    const { accountId, stub } = await registeredAccount();
    for (let i = 0; i < 5; i++) await stub.recordLogin(false, null, meta());
    await drainOutbox(stub);
    expect(await directoryShard(accountId).get(accountId)).toMatchObject({ lockedOut: true, consecutiveFailedLogins: 5 });
    const operator = { kind: "user" as const, id: "operator-1" };
    expect(types(await stub.unlock({ reason: "identity verified", actor: operator }, meta()))).toEqual(["AccountUnlocked"]);
    expect(types(await stub.unlock({ reason: "again", actor: operator }, meta()))).toEqual([]);
    expect(types(await stub.recordLogin(true, null, meta()))).toEqual(["LoginSucceeded"]);
    await drainOutbox(stub);
    expect(await directoryShard(accountId).get(accountId)).toMatchObject({ lockedOut: false, consecutiveFailedLogins: 0 });
  });
});
