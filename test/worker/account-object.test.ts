// AccountObject through its RPC surface, inside workerd: the event log's shape, the hash
// chain, secrets kept out of events, rebuild after eviction, and serialized concurrency.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AccountObject } from "../../src/objects/account-object.ts";
import { hashPassword } from "../../src/password.ts";
import { accountStub, freshEmail, meta, randomPasswordHash, registeredAccount, startSession } from "./helpers.ts";

type Stub = ReturnType<typeof accountStub>;

/** Every stored row, as raw text, straight from SQLite (not through the object's code). */
const rawRows = (stub: Stub) =>
  runInDurableObject(stub, (_instance: AccountObject, state) =>
    state.storage.sql.exec<{ seq: number; data: string; metadata: string }>("SELECT seq, data, metadata FROM events ORDER BY seq").toArray(),
  );

describe("registration appends the account's first events", () => {
  it("appends AccountRegistered, PasswordSet, RoleGranted(member) with contiguous seq 1..3", async () => {
    const { accountId, email, stub, result } = await registeredAccount();
    expect(result.ok).toBe(true);
    const events = (await stub.events(null, 100)).reverse();
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events.map((e) => e.data)).toEqual([
      { _tag: "AccountRegistered", accountId, email },
      { _tag: "PasswordSet", scheme: "scrypt" },
      { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null },
    ]);
    expect(events.every((e) => e.metadata.actor.kind === "user" && e.metadata.actor.id === accountId)).toBe(true);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(3);
    expect(await stub.view()).toMatchObject({ accountId, email, roles: ["member"] });
  });

  it("an admin sign-up also appends RoleGranted(owner) whose actor is the system", async () => {
    const { stub } = await registeredAccount({ isAdmin: true });
    const events = (await stub.events(null, 100)).reverse();
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [1, "AccountRegistered"], [2, "PasswordSet"], [3, "RoleGranted"], [4, "RoleGranted"],
    ]);
    expect(events[3]!.data).toMatchObject({ role: "owner", reason: "ADMIN_EMAILS" });
    expect(events[3]!.metadata.actor.kind).toBe("system");
    expect((await stub.view())!.roles).toEqual(expect.arrayContaining(["member", "owner"]));
  });

  it("registering the same account again appends nothing; another email is refused", async () => {
    const { accountId, email, stub, password } = await registeredAccount();
    const again = await stub.register({ accountId, email, password, isAdmin: false }, meta());
    expect(again).toEqual({ ok: true, events: [] });
    const other = await stub.register({ accountId, email: freshEmail(), password: randomPasswordHash(), isAdmin: false }, meta());
    expect(other).toMatchObject({ ok: false, error: "AccountAlreadyRegistered" });
    expect((await stub.events(null, 100)).length).toBe(3);
  });
});

describe("secrets never enter events", () => {
  it("no event's data or metadata contains the password hash or its salt", async () => {
    const { stub } = await registeredAccount({ password: await hashPassword("correct horse battery staple") });
    await stub.recordLogin(true, null, meta());
    await stub.recordLogin(false, null, meta());
    await startSession(stub);
    const stored = await runInDurableObject(stub, (_i: AccountObject, state) =>
      state.storage.sql.exec<{ hash: string }>("SELECT hash FROM credentials WHERE id = 1").one().hash,
    );
    const { hash, salt } = JSON.parse(stored) as { hash: string; salt: string };
    expect(hash.length).toBeGreaterThan(20);
    const rows = await rawRows(stub);
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      for (const secret of [hash, salt, Buffer.from(hash, "base64").toString("hex"), Buffer.from(salt, "base64").toString("hex")]) {
        expect(row.data).not.toContain(secret);
        expect(row.metadata).not.toContain(secret);
      }
    }
  });
});

describe("the hash chain proves the log was not altered", () => {
  it("verifyChain is ok on an intact log and counts every event", async () => {
    const { stub } = await registeredAccount({ isAdmin: true });
    await stub.recordLogin(true, null, meta());
    const verdict = await stub.verifyChain();
    const newest = (await stub.events(null, 1))[0]!;
    expect(verdict).toEqual({ ok: true, head: newest.hash, count: 5 });
  });

  it("editing one row's data is reported at that row's seq", async () => {
    const { stub } = await registeredAccount();
    await stub.recordLogin(true, null, meta());
    await stub.recordLogin(true, null, meta());
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      // Privilege escalation by hand: member → owner, hash left as it was.
      state.storage.sql.exec(
        "UPDATE events SET data = ? WHERE seq = 3",
        JSON.stringify({ _tag: "RoleGranted", role: "owner", reason: "every account is a member", expiresAt: null }),
      );
    });
    expect(await stub.verifyChain()).toEqual({ ok: false, brokenAt: 3 });
  });

  it("a forger who rewrites a row and recomputes its hash is caught at the next seq", async () => {
    const { stub } = await registeredAccount();
    await stub.recordLogin(true, null, meta());
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      type Row = { seq: number; event_id: string; type: string; version: number; data: string; metadata: string; prev_hash: string };
      const row = state.storage.sql.exec<Row>("SELECT * FROM events WHERE seq = 2").one();
      const metadata = JSON.stringify({ ...JSON.parse(row.metadata), clientIp: "198.51.100.1" });
      const input = row.prev_hash + JSON.stringify([row.seq, row.event_id, row.type, row.version, row.data, metadata]);
      const hash = createHash("sha256").update(input).digest("hex");
      state.storage.sql.exec("UPDATE events SET metadata = ?, hash = ? WHERE seq = 2", metadata, hash);
    });
    expect(await stub.verifyChain()).toEqual({ ok: false, brokenAt: 3 });
  });

  it("deleting a row is reported at the first seq after the gap", async () => {
    const { stub } = await registeredAccount();
    await stub.recordLogin(true, null, meta());
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      state.storage.sql.exec("DELETE FROM events WHERE seq = 2");
    });
    expect(await stub.verifyChain()).toEqual({ ok: false, brokenAt: 3 });
  });
});

describe("a tampered log is never trusted (fail closed on wake-up)", () => {
  it("after a privilege-escalating edit and eviction, the account refuses work and its sessions are not live", async () => {
    const { stub } = await registeredAccount();
    const sessionId = await startSession(stub);
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      state.storage.sql.exec(
        "UPDATE events SET data = ? WHERE seq = 3",
        JSON.stringify({ _tag: "RoleGranted", role: "owner", reason: "every account is a member", expiresAt: null }),
      );
    });
    await evictDurableObject(stub);
    expect(await stub.session(sessionId, Date.now())).toEqual({ live: false, reason: "integrity" });
    // Read the rejection through .then so no pipelined RPC property is left unobserved.
    const refusal = await stub.recordLogin(true, null, meta()).then(() => "appended", (e: Error) => e.message);
    expect(refusal).toMatch(/failed its integrity check at seq 3/);
    expect(await stub.view()).toBeNull(); // the forged owner role never became state
  });
});

describe("state is rebuilt from the log", () => {
  it("after eviction, roles and live sessions come back from the events alone", async () => {
    const { accountId, stub } = await registeredAccount({ isAdmin: true });
    const sessionId = await startSession(stub);
    const before = await stub.view();
    await runInDurableObject(stub, (instance: AccountObject) => {
      (instance as unknown as { marker: string }).marker = "old instance";
    });
    await evictDurableObject(stub);
    const marker = await runInDurableObject(stub, (instance: AccountObject) => (instance as unknown as { marker?: string }).marker);
    expect(marker).toBeUndefined(); // a new instance, so the state below came from the log
    expect(await stub.view()).toEqual(before);
    expect((await stub.view())!.roles).toEqual(expect.arrayContaining(["member", "owner"]));
    const session = await stub.session(sessionId, Date.now());
    expect(session).toMatchObject({ live: true, account: { accountId } });
    const more = await stub.recordLogin(true, null, meta());
    expect(more.ok && more.events[0]!.seq).toBe(7); // the rebuilt object appends after the old head
    expect((await stub.verifyChain()).ok).toBe(true);
  });
});

describe("concurrent commands on one account are serialized", () => {
  it("50 concurrent recordLogin calls are all answered with contiguous seq, no gaps or duplicates", async () => {
    const { stub } = await registeredAccount();
    const results = await Promise.all(Array.from({ length: 50 }, () => stub.recordLogin(false, null, meta())));
    expect(results.every((r) => r.ok && r.events.length >= 1)).toBe(true);
    const events = results.flatMap((r) => (r.ok ? r.events : []));
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    // 50 failures: 1..5 counted (the 5th also locks the account), then 45 refused while locked.
    expect(seqs).toEqual(Array.from({ length: 51 }, (_, i) => i + 4));
    // Each decision saw the previous one: counts 1..5 each exactly once, one lock, then refusals.
    const failures = events.flatMap((e) => (e.data._tag === "LoginFailed" ? [e.data] : []));
    expect(failures.filter((f) => f.reason === "invalid_password").map((f) => f.failedAttempts).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(failures.filter((f) => f.reason === "account_locked")).toHaveLength(45);
    expect(events.filter((e) => e.type === "AccountLocked")).toHaveLength(1);
    const rows = await rawRows(stub);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 54 }, (_, i) => i + 1));
    expect(await stub.verifyChain()).toMatchObject({ ok: true, count: 54 });
  });
});

describe("events() reads the log newest-first with a cursor", () => {
  it("pages newest-first; `before` is exclusive and the last page is short, then empty", async () => {
    const { stub } = await registeredAccount();
    for (let i = 0; i < 7; i++) await stub.recordLogin(true, null, meta());
    const seqs = async (before: number | null) => (await stub.events(before, 4)).map((e) => e.seq);
    expect(await seqs(null)).toEqual([10, 9, 8, 7]);
    expect(await seqs(7)).toEqual([6, 5, 4, 3]);
    expect(await seqs(3)).toEqual([2, 1]);
    expect(await seqs(1)).toEqual([]);
  });

  it("clamps the page size to 1..100", async () => {
    const { stub } = await registeredAccount();
    for (let i = 0; i < 100; i++) await stub.recordLogin(true, null, meta());
    expect((await stub.events(null, 1000)).length).toBe(100);
    expect((await stub.events(null, 0)).map((e) => e.seq)).toEqual([103]);
  });
});
