// Schema migrations and upcasting from a database written with the old (v1) shape: the
// v2 tables (idempotency, snapshots, outbox) did not exist and RoleGranted had no expiresAt.
// Waking on it runs the missing migrations, reads old events as the current shape, and
// leaves the stored bytes (which the hash chain covers) exactly as they were.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AccountObject } from "../../src/objects/account-object.ts";
import { ACCOUNT_MIGRATIONS } from "../../src/store/account-schema.ts";
import { accountStub, allEvents, caughtUp, directoryShard, drainOutbox, foldLog, liveState, meta, sql, type AccountStub } from "./helpers.ts";

interface RawRow extends Record<string, SqlStorageValue> {
  seq: number; event_id: string; type: string; version: number; data: string; metadata: string; prev_hash: string; hash: string;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** The chain link as src/store/event-store.ts defines it, recomputed independently. */
const link = (prev: string, r: Omit<RawRow, "prev_hash" | "hash">) => sha256(prev + JSON.stringify([r.seq, r.event_id, r.type, r.version, r.data, r.metadata]));

/**
 * Writes, into a fresh account object, the database a v1 deployment left behind: four events
 * (RoleGranted without expiresAt, version 1) chained as the store chains them, no v2 tables,
 * no v2 migration record, no alarm. Nothing of it was ever delivered to a projection.
 */
async function writeV1Account(): Promise<{ stub: AccountStub; accountId: string; rows: RawRow[] }> {
  const accountId = crypto.randomUUID();
  const stub = accountStub(accountId);
  const actor = { kind: "user", id: accountId };
  const bodies: Array<[string, object]> = [
    ["AccountRegistered", { _tag: "AccountRegistered", accountId, email: `${accountId}@example.com` }],
    ["PasswordSet", { _tag: "PasswordSet", scheme: "scrypt" }],
    ["RoleGranted", { _tag: "RoleGranted", role: "member", reason: "every account is a member" }],
    ["RoleGranted", { _tag: "RoleGranted", role: "auditor", reason: "granted before roles could expire" }],
  ];
  let prev = "0".repeat(64);
  const rows = bodies.map(([type, data], i): RawRow => {
    const row = { seq: i + 1, event_id: crypto.randomUUID(), type, version: 1, data: JSON.stringify(data), metadata: JSON.stringify({ ...meta(), actor }) };
    const hash = link(prev, row);
    const out = { ...row, prev_hash: prev, hash };
    prev = hash;
    return out;
  });
  await runInDurableObject(stub, (_i: AccountObject, state) => {
    const db = state.storage.sql;
    // The v1 schema exactly as migration 1 writes it, recorded as applied.
    db.exec(ACCOUNT_MIGRATIONS[0]!.sql);
    db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)");
    db.exec("INSERT OR IGNORE INTO schema_migrations (version, description, applied_at) VALUES (1, ?, 0)", ACCOUNT_MIGRATIONS[0]!.description);
    expect(db.exec("SELECT COUNT(*) AS n FROM events").one().n).toBe(0); // a fresh object
    for (const r of rows) {
      db.exec("INSERT INTO events (seq, event_id, type, version, data, metadata, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        r.seq, r.event_id, r.type, r.version, r.data, r.metadata, r.prev_hash, r.hash);
    }
    db.exec("DROP TABLE IF EXISTS idempotency; DROP TABLE IF EXISTS snapshots; DROP TABLE IF EXISTS outbox");
    db.exec("DELETE FROM schema_migrations WHERE version >= 2");
    const names = db.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().map((t) => t.name);
    expect(names).not.toContain("outbox");
    expect(db.exec("SELECT version FROM schema_migrations").toArray()).toEqual([{ version: 1 }]);
  });
  await evictDurableObject(stub);
  return { stub, accountId, rows };
}

const tables = (stub: AccountStub) =>
  sql<{ name: string }>(stub, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").then((r) => r.map((t) => t.name));

describe("waking on a v1 database (migration 2 and the RoleGranted v1 → v2 upcaster)", () => {
  it("runs the missing migration, reads v1 grants as v2 with expiresAt null, keeps the stored bytes, and the chain verifies", async () => {
    const { stub, rows: v1 } = await writeV1Account();

    // Any call wakes the object; the constructor migrates before reading.
    expect(await stub.verifyChain()).toEqual({ ok: true, head: v1.at(-1)!.hash, count: v1.length });
    expect((await sql<{ version: number }>(stub, "SELECT version FROM schema_migrations ORDER BY version")).map((r) => r.version)).toEqual(ACCOUNT_MIGRATIONS.map((m) => m.version));
    expect(await tables(stub)).toEqual(expect.arrayContaining(["events", "idempotency", "outbox", "snapshots"]));

    const events = await allEvents(stub);
    const grants = events.filter((e) => e.type === "RoleGranted");
    expect(grants.map((e) => e.data)).toEqual([
      { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null },
      { _tag: "RoleGranted", role: "auditor", reason: "granted before roles could expire", expiresAt: null },
    ]);
    // The hash each reader sees is the stored one: the upcast changed what is read, not what is kept.
    expect(events.map((e) => [e.seq, e.hash, e.prevHash])).toEqual(v1.map((r) => [r.seq, r.hash, r.prev_hash]));
    expect(await sql<RawRow>(stub, "SELECT * FROM events ORDER BY seq")).toEqual(v1);

    expect((await stub.view())!.roles).toEqual(["auditor", "member"]);
    expect((await liveState(stub)).state).toEqual(foldLog(events));
  });

  it("after the migration the account appends, keys and snapshots again on top of the old chain", async () => {
    const { stub, rows: v1 } = await writeV1Account();
    const key = crypto.randomUUID();
    const granted = await stub.grantRole({ role: "operator", reason: "after upgrade", expiresAt: null, actor: { kind: "system", id: "warden" }, idempotencyKey: key }, meta());
    expect(granted).toMatchObject({ ok: true, events: [{ seq: v1.length + 1, version: 2, prevHash: v1.at(-1)!.hash }] });
    expect(await stub.grantRole({ role: "operator", reason: "after upgrade", expiresAt: null, actor: { kind: "system", id: "warden" }, idempotencyKey: key }, meta())).toMatchObject({ replayed: true });
    for (let i = 0; i < 8; i++) await stub.recordLogin(true, null, meta());
    expect((await sql(stub, "SELECT seq FROM snapshots")).length).toBeGreaterThan(0);
    await evictDurableObject(stub);
    expect((await liveState(stub)).state).toEqual(foldLog(await allEvents(stub)));
    expect(await stub.verifyChain()).toMatchObject({ ok: true, count: v1.length + 9 });
    // Old rows are still byte-for-byte what v1 wrote.
    expect(await sql<RawRow>(stub, "SELECT * FROM events WHERE seq <= ? ORDER BY seq", v1.length)).toEqual(v1);
  });

  it("a migrated account with no new activity still reaches the directory once its alarm runs", async () => {
    // The v1 schema had no outbox: the events written then were never delivered. Nothing
    // on wake-up schedules their delivery, so a dormant pre-v2 account would never appear in
    // the directory (and `rebuild` only asks accounts that delivered before).
    const { stub, accountId } = await writeV1Account();
    await stub.view(); // wake (a read, no append)
    const status = await stub.outboxStatus();
    expect(status.targets.length, "no outbox targets after migrating a v1 account").toBeGreaterThan(0);
    await drainOutbox(stub);
    expect(caughtUp(await stub.outboxStatus())).toBe(true);
    expect(await directoryShard(accountId).get(accountId)).toMatchObject({ accountId, roles: ["member", "auditor"] });
  });
});
