// Regression: delivery must never wait for an unrelated expiry. After an alarm run that
// re-armed for a far expiry, the next append must bring the alarm back to "now".

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { AccountObject } from "../../src/objects/account-object.ts";
import { meta, registeredAccount, startSession } from "./helpers.ts";

const alarmOf = (stub: Awaited<ReturnType<typeof registeredAccount>>["stub"]) =>
  runInDurableObject(stub, (_i: AccountObject, state) => state.storage.getAlarm());

describe("every append arms prompt delivery", () => {
  it("after an alarm run that re-armed for a session expiry, the next append sets the alarm to now again", async () => {
    const { stub } = await registeredAccount();
    await startSession(stub); // a live session: the alarm's next stop is its expiry, 30 days out
    // A role already past its expiry: the alarm run itself appends (RoleExpired) before re-arming.
    await stub.grantRole({ role: "auditor", reason: "short", expiresAt: Date.now() - 1, actor: { kind: "system", id: "test" } }, meta());
    await runDurableObjectAlarm(stub);
    expect((await stub.events(null, 5)).some((e) => e.type === "RoleExpired")).toBe(true);
    const parked = await alarmOf(stub);
    expect(parked).not.toBeNull();
    expect(parked!).toBeGreaterThan(Date.now() + 24 * 60 * 60 * 1000);

    for (let round = 0; round < 3; round++) {
      const before = Date.now();
      await stub.recordLogin(true, null, meta());
      const armed = await alarmOf(stub);
      expect(armed, `round ${round}`).not.toBeNull();
      expect(armed!, `round ${round}`).toBeLessThanOrEqual(before + 1_000);
      await runDurableObjectAlarm(stub);
      const status = await stub.outboxStatus();
      expect(status.targets.every((t) => t.delivered_seq === status.head), `round ${round}`).toBe(true);
    }
  });
});
