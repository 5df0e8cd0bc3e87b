// The account event store inside workerd: expected versions, idempotency keys (sequential,
// concurrent, across eviction), serialized concurrency with ordered reads, and snapshots that
// never change what a replay yields.

import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { activeRoles, sessionProblem, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import { SYSTEM, type Actor, type StoredEvent } from "../../domain/events.ts";
import { decodeState } from "../../domain/snapshot.ts";
import {
  accountStub, allEvents, foldLog, liveState, meta, registeredAccount, sql, type AccountStub,
} from "./helpers.ts";

const user = (id: string): Actor => ({ kind: "user", id });
const login = (ok = true): AccountCommand => ({ _tag: "RecordLogin", passwordMatches: ok, clientId: null, at: Date.now() });
const run = (stub: AccountStub, command: AccountCommand, options: Parameters<AccountStub["execute"]>[2] = {}) =>
  stub.execute([{ command, actor: SYSTEM }], meta(), options);
const headOf = async (stub: AccountStub) => (await stub.outboxStatus()).head;

describe("appends check the expected version (exact, none, any)", () => {
  it("exact: a stale or future version returns WrongExpectedVersion and appends nothing; the current one appends", async () => {
    const { stub } = await registeredAccount();
    const before = await allEvents(stub);
    for (const seq of [0, 2, 4, 100]) {
      expect(await run(stub, login(), { expected: { kind: "exact", seq } })).toMatchObject({ ok: false, error: "WrongExpectedVersion" });
    }
    expect(await allEvents(stub)).toEqual(before);
    const appended = await run(stub, login(), { expected: { kind: "exact", seq: 3 } });
    expect(appended.ok && appended.events.map((e) => e.seq)).toEqual([4]);
  });

  it("none: refused once the stream exists, accepted on a fresh stream", async () => {
    const { stub, accountId } = await registeredAccount();
    expect(await run(stub, login(), { expected: { kind: "none" } })).toMatchObject({ ok: false, error: "WrongExpectedVersion" });
    expect(await headOf(stub)).toBe(3);
    const freshId = crypto.randomUUID();
    const fresh = accountStub(freshId);
    const registered = await fresh.execute([{ command: { _tag: "RegisterAccount", accountId: freshId, email: `${freshId}@example.com` }, actor: user(freshId) }], meta(), { expected: { kind: "none" } });
    expect(registered.ok && registered.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(accountId).not.toBe(freshId);
  });

  it("any: appends at whatever the head is", async () => {
    const { stub } = await registeredAccount();
    await run(stub, login());
    const appended = await run(stub, login(false), { expected: { kind: "any" } });
    expect(appended.ok && appended.events.map((e) => e.seq)).toEqual([5]);
  });

  it("a mismatch leaves the in-memory state and the chain as they were", async () => {
    const { stub } = await registeredAccount();
    const state = (await liveState(stub)).state;
    await run(stub, { _tag: "GrantRole", role: "admin", reason: "r", expiresAt: null }, { expected: { kind: "exact", seq: 1 } });
    expect((await liveState(stub)).state).toEqual(state);
    expect(await stub.verifyChain()).toMatchObject({ ok: true, count: 3 });
  });
});

describe("an idempotency key gives one effect and the first outcome", () => {
  const grant = (stub: AccountStub, role: "auditor" | "operator", key: string) =>
    stub.grantRole({ role, reason: "test", expiresAt: null, actor: SYSTEM, idempotencyKey: key }, meta());

  it("sequential retries return the first outcome with replayed: true, even for a different command, and after eviction", async () => {
    const { stub } = await registeredAccount();
    const key = crypto.randomUUID();
    const first = await grant(stub, "auditor", key);
    expect(first).toMatchObject({ ok: true, events: [{ seq: 4, data: { role: "auditor" } }] });
    expect("replayed" in first).toBe(false);
    expect(await grant(stub, "auditor", key)).toEqual({ ...first, replayed: true });
    expect(await grant(stub, "operator", key)).toEqual({ ...first, replayed: true });
    await evictDurableObject(stub);
    expect(await grant(stub, "operator", key)).toEqual({ ...first, replayed: true });
    expect((await allEvents(stub)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect((await stub.view())!.roles).toEqual(["auditor", "member"]);
  });

  it("20 concurrent calls with one key: one effect, one first outcome, 19 replays of it (also after eviction)", async () => {
    const { stub } = await registeredAccount();
    const key = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => grant(stub, "auditor", key)));
    const firsts = results.filter((r) => !("replayed" in r));
    expect(firsts).toHaveLength(1);
    const { replayed: _r, ...firstOutcome } = { ...firsts[0]!, replayed: undefined };
    for (const r of results) expect(r).toEqual("replayed" in r ? { ...firstOutcome, replayed: true } : firstOutcome);
    await evictDurableObject(stub);
    const again = await Promise.all(Array.from({ length: 20 }, () => grant(stub, "operator", key)));
    for (const r of again) expect(r).toEqual({ ...firstOutcome, replayed: true });
    expect((await allEvents(stub)).filter((e) => e.type === "RoleGranted").map((e) => e.data)).toMatchObject([{ role: "member" }, { role: "auditor" }]);
    expect(await headOf(stub)).toBe(4);
  });

  it("a refusal is the first outcome too: retrying after the cause is fixed still returns the refusal", async () => {
    const { stub } = await registeredAccount();
    const key = crypto.randomUUID();
    const start: AccountCommand = { _tag: "StartSession", sessionId: "s", clientId: "c", scopes: ["r"], resource: "x", expiresAt: Date.now() + 60_000, at: Date.now(), amr: ["pwd"] };
    const refused = await run(stub, start, { idempotencyKey: key });
    expect(refused).toMatchObject({ ok: false, error: "ConsentMissing" });
    await run(stub, { _tag: "GrantConsent", clientId: "c", clientName: "C", redirectHost: "h", scopes: ["r"] });
    expect(await run(stub, start, { idempotencyKey: key })).toEqual({ ...refused, replayed: true });
    expect(await headOf(stub)).toBe(4);
  });

  it("a version conflict is not remembered under the key: a retry with the right version appends once", async () => {
    const { stub } = await registeredAccount();
    const key = crypto.randomUUID();
    expect(await run(stub, login(), { idempotencyKey: key, expected: { kind: "exact", seq: 9 } })).toMatchObject({ error: "WrongExpectedVersion" });
    const ok = await run(stub, login(), { idempotencyKey: key, expected: { kind: "exact", seq: 3 } });
    expect(ok).toMatchObject({ ok: true, events: [{ seq: 4 }] });
    expect(await run(stub, login(), { idempotencyKey: key, expected: { kind: "exact", seq: 3 } })).toEqual({ ...ok, replayed: true });
  });
});

describe("concurrent commands on one account are decided one after another", () => {
  it("50 concurrent mixed commands: all answered, seq contiguous, no duplicates, every page read meanwhile newest-first in order", async () => {
    const { stub, accountId } = await registeredAccount();
    const commands = Array.from({ length: 50 }, (_, i): Promise<unknown> => {
      if (i % 5 === 0) return stub.grantRole({ role: i % 10 === 0 ? "auditor" : "operator", reason: `r${i}`, expiresAt: Date.now() + 3_600_000 + i, actor: SYSTEM }, meta());
      if (i % 5 === 1) return stub.execute([{ command: { _tag: "DenyConsent", clientId: `c${i}`, scopes: ["r"] }, actor: user(accountId) }], meta());
      return stub.recordLogin(i % 2 === 0, null, meta());
    });
    const pages: StoredEvent[][] = [];
    const reads = Array.from({ length: 25 }, async (_, i) => pages.push((await stub.events(i % 3 === 0 ? null : 4 + i, 7)) as StoredEvent[]));
    const results = (await Promise.all([...commands, ...reads]).then((all) => all.slice(0, 50))) as Array<{ ok: boolean; events?: StoredEvent[] }>;
    expect(results.every((r) => r.ok)).toBe(true);
    const seqs = results.flatMap((r) => r.events!.map((e) => e.seq)).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(seqs.length);
    const log = await allEvents(stub);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: log.length }, (_, i) => i + 1));
    expect(seqs).toEqual(log.slice(3).map((e) => e.seq)); // every appended event was answered to its caller
    expect(new Set(log.map((e) => e.eventId)).size).toBe(log.length);
    for (const page of pages) {
      for (let i = 1; i < page.length; i++) expect(page[i]!.seq).toBe(page[i - 1]!.seq - 1);
    }
    // Failed-login counts were decided against current state: each count follows the one before.
    let streak = 0;
    for (const { data } of log) {
      if (data._tag === "LoginSucceeded") streak = 0;
      if (data._tag === "LoginFailed") expect(data.failedAttempts).toBe(++streak);
    }
    expect(await stub.verifyChain()).toMatchObject({ ok: true, count: log.length });
  });
});

/** What view() and session() must answer, computed from a folded state at a fixed time. */
const answersOf = (state: AccountState, sessionIds: string[], at: number) => ({
  roles: [...activeRoles(state, at)].sort(),
  closed: state.closed,
  sessions: sessionIds.map((id) => sessionProblem(state, id, at)),
});
const observed = async (stub: AccountStub, sessionIds: string[], at: number) => {
  const view = (await stub.view(at))!;
  const sessions = await Promise.all(sessionIds.map((id) => stub.session(id, at)));
  return {
    roles: [...view.roles].sort(),
    closed: view.closed,
    sessions: sessions.map((s) => (s.live ? null : s.reason)),
  };
};

describe("snapshots never change what a replay yields", () => {
  it("after >10 events a snapshot exists; evicted, the woken state equals the fold of every event, with or without snapshots", async () => {
    const { stub, accountId } = await registeredAccount();
    const now = Date.now();
    const actor = user(accountId);
    await stub.execute([{ command: { _tag: "GrantConsent", clientId: "c", clientName: "C", redirectHost: "h", scopes: ["r", "w"] }, actor }], meta());
    const sessionIds = ["s1", "s2", "s3"];
    for (const [i, id] of sessionIds.entries()) {
      await stub.execute([{ command: { _tag: "StartSession", sessionId: id, clientId: "c", scopes: ["r"], resource: "x", expiresAt: now + 3_600_000 * (i + 1), at: now, amr: ["pwd"] }, actor }], meta());
    }
    for (let i = 0; i < 9; i++) await stub.recordLogin(i % 3 !== 0, null, meta());
    await stub.grantRole({ role: "operator", reason: "t", expiresAt: now + 7_200_000, actor: SYSTEM }, meta());
    await stub.execute([{ command: { _tag: "RevokeSession", sessionId: "s2", reason: "user_request" }, actor }], meta());
    await stub.execute([{ command: { _tag: "RefreshSession", sessionId: "s1", generation: 0, expiresAt: now + 9_000_000, at: now }, actor }], meta());

    const events = await allEvents(stub);
    expect(events.length).toBeGreaterThan(10);
    const snapshots = await sql<{ seq: number; state: string }>(stub, "SELECT seq, state FROM snapshots ORDER BY seq");
    expect(snapshots.length).toBeGreaterThan(0);
    for (const snap of snapshots) expect(decodeState(snap.state)).toEqual(foldLog(events.slice(0, snap.seq)));

    const full = foldLog(events);
    const at = now + 5_000_000;
    const expected = answersOf(full, [...sessionIds, "unknown"], at);
    expect(await observed(stub, [...sessionIds, "unknown"], at)).toEqual(expected);
    const viewBefore = await stub.view(at);

    await evictDurableObject(stub);
    expect((await liveState(stub)).state).toEqual(full);
    expect(await observed(stub, [...sessionIds, "unknown"], at)).toEqual(expected);
    expect(await stub.view(at)).toEqual(viewBefore);

    await sql(stub, "DELETE FROM snapshots");
    await evictDurableObject(stub);
    expect(await sql(stub, "SELECT seq FROM snapshots")).toEqual([]);
    expect(await liveState(stub)).toMatchObject({ state: full, head: { seq: events.length, hash: events.at(-1)!.hash } });
    expect(await observed(stub, [...sessionIds, "unknown"], at)).toEqual(expected);
    expect(await stub.view(at)).toEqual(viewBefore);
  });

  it("an object woken from a snapshot appends after the true head and keeps snapshotting", async () => {
    const { stub } = await registeredAccount();
    // 12 successes then 3 failures (below the lockout threshold): the count lives in the state.
    for (let i = 0; i < 15; i++) await stub.recordLogin(i < 12, null, meta());
    await evictDurableObject(stub);
    const next = await stub.recordLogin(false, null, meta());
    expect(next).toMatchObject({ ok: true, events: [{ seq: 19, data: { failedAttempts: 4 } }] });
    for (let i = 0; i < 5; i++) await stub.recordLogin(true, null, meta());
    const seqs = (await sql<{ seq: number }>(stub, "SELECT seq FROM snapshots ORDER BY seq")).map((r) => r.seq);
    expect(seqs).toEqual([10, 20]);
    expect((await liveState(stub)).state).toEqual(foldLog(await allEvents(stub)));
    expect(await stub.verifyChain()).toMatchObject({ ok: true, count: 24 });
  });
});
