// Outbox-fed global read models inside workerd: the directory and audit shards equal the pure
// reducers over each account's full log; fan-out queries page through everything once;
// failed and duplicated deliveries converge with nothing applied twice; health shows lag;
// rebuild replays every account.

import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SYSTEM, type StoredEvent } from "../../domain/events.ts";
import { compareAuditDesc, type AuditRow } from "../../projections/audit.ts";
import { DIRECTORY_SQL } from "../../projections/directory.ts";
import { targetOf } from "../../projections/sharding.ts";
import type { AccountObject } from "../../src/objects/account-object.ts";
import type { ProjectionShard } from "../../src/objects/projection-shard.ts";
import { listAccounts, projectionHealth, queryAudit, rebuildProjection, type ShardReport } from "../../src/services/projections.ts";
import { backoffMs } from "../../src/store/outbox.ts";
import {
  accountStub, allEvents, appliesOf, auditRowsOf, auditShard, caughtUp, countApplies, directoryShard, drainOutbox, expectedAudit, expectedDirectory,
  failNext, meta, randomPasswordHash, readModelsOf, registeredAccount, sql, startSession, type AccountStub, type OutboxStatus,
} from "./helpers.ts";

/** Sign-up, logins (good and bad), sessions, a revocation, a grant; every third account closes. */
async function traffic(stub: AccountStub, i: number) {
  await stub.recordLogin(false, null, meta());
  await stub.recordLogin(i % 2 === 0, `client-${i}`, meta());
  const first = await startSession(stub);
  await startSession(stub);
  await stub.execute([{ command: { _tag: "RevokeSession", sessionId: first, reason: "user_request" }, actor: SYSTEM }], meta());
  await stub.grantRole({ role: "operator", reason: "t", expiresAt: Date.now() + 86_400_000, actor: SYSTEM }, meta());
  if (i % 3 === 2) await stub.close({ reason: "user_request", actor: SYSTEM }, meta());
}

async function expectReadModelsEqualReducers(stub: AccountStub, accountId: string) {
  const m = await readModelsOf(stub, accountId);
  expect(m.directory).toEqual(m.expectedDirectory);
  expect(m.audit).toEqual(m.expectedAudit);
  return m;
}

const reportOf = (reports: ShardReport[], target: string) => reports.find((r) => r.target === target) as { eventsBehind: number; oldestUndeliveredAt: number | null };

describe("read models equal the reducers over each account's full log", () => {
  it("after sign-up, login and session traffic on several accounts and draining alarms, directory and audit rows equal the reducers", async () => {
    const accounts = await Promise.all(Array.from({ length: 6 }, (_, i) => registeredAccount({ isAdmin: i === 0 })));
    await Promise.all(accounts.map(({ stub }, i) => traffic(stub, i)));
    for (const { stub, accountId } of accounts) {
      await drainOutbox(stub);
      const m = await expectReadModelsEqualReducers(stub, accountId);
      expect(m.directory!.lastSeq).toBe(m.events.length);
    }
    expect((await directoryShard(accounts[2]!.accountId).get(accounts[2]!.accountId))!.status).toBe("closed");
  });

  it("listAccounts and queryAudit page through every row exactly once, in order, with cursors", async () => {
    const prefix = `page-${crypto.randomUUID().slice(0, 8)}-`;
    const t0 = Date.now();
    const accounts = await Promise.all(Array.from({ length: 7 }, async (_, i) => {
      const accountId = crypto.randomUUID();
      const stub = accountStub(accountId);
      await stub.register({ accountId, email: `${prefix}${i}@example.com`, password: randomPasswordHash(), isAdmin: false }, meta());
      await stub.recordLogin(i % 2 === 0, null, meta());
      if (i === 3) await stub.close({ reason: "r", actor: SYSTEM }, meta());
      return { accountId, stub };
    }));
    for (const { stub } of accounts) await drainOutbox(stub);

    const listed = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const result = await listAccounts(env, { emailPrefix: prefix, limit: 2, cursor });
      listed.push(...result.accounts);
      if (!result.next) break;
      cursor = result.next;
    }
    expect(listed.map((r) => r.email)).toEqual(Array.from({ length: 7 }, (_, i) => `${prefix}${i}@example.com`));
    for (const row of listed) {
      const { stub } = accounts.find((a) => a.accountId === row.accountId)!;
      expect(row).toEqual(expectedDirectory(row.accountId, await allEvents(stub)));
    }
    const closed = await listAccounts(env, { emailPrefix: prefix, status: "closed", limit: 10 });
    expect(closed.accounts.map((r) => r.accountId)).toEqual([accounts[3]!.accountId]);

    const seen: AuditRow[] = [];
    cursor = undefined;
    for (let page = 0; page < 500; page++) {
      const result = await queryAudit(env, { from: t0, limit: 4, cursor });
      seen.push(...result.events);
      if (!result.next) break;
      cursor = result.next;
    }
    const keys = seen.map((r) => `${r.accountId}:${r.seq}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (let i = 1; i < seen.length; i++) expect(compareAuditDesc(seen[i - 1]!, seen[i]!)).toBeLessThan(0);
    const mine = new Set(accounts.map((a) => a.accountId));
    const expected = (await Promise.all(accounts.map(async ({ stub, accountId }) => expectedAudit(accountId, await allEvents(stub))))).flat().sort(compareAuditDesc);
    expect(seen.filter((r) => mine.has(r.accountId))).toEqual(expected);

    const one = accounts[5]!;
    const perAccount: AuditRow[] = [];
    cursor = undefined;
    for (let page = 0; page < 20; page++) {
      const result = await queryAudit(env, { accountId: one.accountId, limit: 1, cursor });
      perAccount.push(...result.events);
      if (!result.next) break;
      cursor = result.next;
    }
    expect(perAccount).toEqual(expectedAudit(one.accountId, await allEvents(one.stub)));
  });
});

describe("delivery is at least once, applied exactly once", () => {
  it("injected delivery failures (3) leave attempts and backoff visible in the outbox, then converge with no event applied twice", async () => {
    const { stub, accountId } = await registeredAccount();
    await drainOutbox(stub);
    const dir = directoryShard(accountId);
    await countApplies(dir);
    await failNext(dir, 3);
    await stub.recordLogin(false, null, meta());
    await stub.recordLogin(true, null, meta());
    const dirTarget = targetOf("directory", accountId);
    const seenAttempts = new Set<number>();
    for (let round = 0; round < 10; round++) {
      if (!(await runDurableObjectAlarm(stub))) await runInDurableObject(stub, (o: AccountObject) => o.alarm());
      const status = (await stub.outboxStatus()) as OutboxStatus;
      const row = status.targets.find((t) => t.target === dirTarget)!;
      if (row.delivered_seq === status.head) break;
      // While failing: the error, the attempt count and an exponential backoff are on record.
      expect(row).toMatchObject({ last_error: "injected delivery failure" });
      expect(row.next_attempt_at - row.last_attempt_at!).toBe(backoffMs(row.attempts));
      seenAttempts.add(row.attempts);
      await sql(stub, "UPDATE outbox SET next_attempt_at = 0"); // the clock passes the backoff
    }
    expect([...seenAttempts].sort()).toEqual([1, 2, 3]);
    const status = await drainOutbox(stub);
    expect(status.targets.every((t) => t.attempts === 0 && t.last_error === null)).toBe(true);
    const m = await expectReadModelsEqualReducers(stub, accountId);
    expect(m.directory!.lastSeq).toBe(status.head);
    expect(m.audit.map((r) => r.seq)).toEqual(Array.from({ length: status.head }, (_, i) => status.head - i));
    expect(await appliesOf(dir, accountId)).toEqual([[4, 1], [5, 1]]);
  });

  it("evicting the account object at points between append and delivery loses nothing and applies nothing twice", async () => {
    const { stub, accountId } = await registeredAccount();
    await drainOutbox(stub);
    const [dir, audit] = [directoryShard(accountId), auditShard(accountId)];
    await Promise.all([countApplies(dir), countApplies(audit)]);
    for (let step = 0; step < 6; step++) {
      if (step % 3 === 1) await failNext(audit, 1);
      await stub.recordLogin(step % 2 === 0, null, meta());
      if (step % 3 === 0) await evictDurableObject(stub); // right after the append
      await runDurableObjectAlarm(stub);
      await evictDurableObject(stub); // after a delivery (that may have failed)
      if (step % 3 === 2) await startSession(stub);
    }
    const status = await drainOutbox(stub, { skipBackoff: true });
    expect(caughtUp(status)).toBe(true);
    await expectReadModelsEqualReducers(stub, accountId);
    const once = Array.from({ length: status.head - 3 }, (_, i) => [i + 4, 1]);
    expect(await appliesOf(dir, accountId)).toEqual(once);
    expect(await appliesOf(audit, accountId)).toEqual(once);
  });

  it("the same batch delivered twice straight to a shard applies once; an unordered batch is applied in seq order", async () => {
    const { stub, accountId } = await registeredAccount();
    await stub.recordLogin(true, null, meta());
    await startSession(stub);
    const events = await allEvents(stub);
    const source = `direct-${crypto.randomUUID()}`;
    const target = `audit/test-${crypto.randomUUID()}`;
    const shard = env.AUDIT.get(env.AUDIT.idFromName(target));
    await countApplies(shard);
    const head = { seq: events.length, at: events.at(-1)!.metadata.at };
    expect(await shard.deliver(target, source, events.slice(0, 3), head)).toEqual({ appliedThrough: 3 });
    expect(await shard.deliver(target, source, events.slice(0, 3), head)).toEqual({ appliedThrough: 3 });
    expect(await shard.deliver(target, source, [...events].reverse(), head)).toEqual({ appliedThrough: events.length });
    expect(await shard.deliver(target, source, events, head)).toEqual({ appliedThrough: events.length });
    expect(await appliesOf(shard, source)).toEqual(events.map((e) => [e.seq, 1]));
    expect(await shard.query({ accountId: source, limit: 100 })).toEqual(expectedAudit(source, events));

    const dirTarget = `directory/test-${crypto.randomUUID()}`;
    const dir = env.DIRECTORY.get(env.DIRECTORY.idFromName(dirTarget));
    for (let i = 0; i < 3; i++) await dir.deliver(dirTarget, accountId, events, head);
    expect(await dir.get(accountId)).toEqual(expectedDirectory(accountId, events));
  });

  it("a batch with a gap applies nothing past the gap; the missing event then lets the rest through", async () => {
    const { stub } = await registeredAccount();
    for (let i = 0; i < 3; i++) await stub.recordLogin(false, null, meta());
    const events = await allEvents(stub); // seq 1..6
    const source = `gap-${crypto.randomUUID()}`;
    const target = `audit/test-${crypto.randomUUID()}`;
    const shard = env.AUDIT.get(env.AUDIT.idFromName(target));
    const head = (e: StoredEvent[]) => ({ seq: e.at(-1)!.seq, at: e.at(-1)!.metadata.at });
    const seqs = async () => ((await shard.query({ accountId: source, limit: 100 })) as AuditRow[]).map((r) => r.seq);
    const without = (...skip: number[]) => events.filter((e) => !skip.includes(e.seq));

    expect(await shard.deliver(target, source, events.slice(1, 4), head(events))).toEqual({ appliedThrough: 0 });
    expect(await seqs()).toEqual([]);
    expect(await shard.deliver(target, source, without(3), head(events))).toEqual({ appliedThrough: 2 });
    expect(await seqs()).toEqual([2, 1]);
    const health = await shard.health();
    expect(health).toMatchObject({ eventsBehind: events.length - 2 });
    expect(health.oldestUndeliveredAt).not.toBeNull();
    expect(await shard.deliver(target, source, events.slice(2, 3), head(events))).toEqual({ appliedThrough: 3 });
    expect(await shard.deliver(target, source, without(1, 2, 3), head(events))).toEqual({ appliedThrough: 6 });
    expect(await seqs()).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await shard.health()).toMatchObject({ eventsBehind: 0, oldestUndeliveredAt: null });
  });
});

describe("projection health and rebuild", () => {
  it("projectionHealth reports eventsBehind > 0 for a shard while its deliveries fail, and 0 once converged", async () => {
    const { stub, accountId } = await registeredAccount();
    await drainOutbox(stub);
    const dirTarget = targetOf("directory", accountId);
    await failNext(directoryShard(accountId), 1000);
    await stub.recordLogin(true, null, meta());
    await stub.recordLogin(false, null, meta());
    if (!(await runDurableObjectAlarm(stub))) await runInDurableObject(stub, (o: AccountObject) => o.alarm());
    const pending = (await stub.outboxStatus()).targets.find((t) => t.target === dirTarget)!;
    expect(pending.delivered_seq).toBeLessThan(5); // the account knows the shard is behind
    try {
      const failing = reportOf(await projectionHealth(env), dirTarget);
      expect(failing.eventsBehind, "projectionHealth while the shard's deliveries fail").toBeGreaterThan(0);
      expect(failing.oldestUndeliveredAt).not.toBeNull();
    } finally {
      await failNext(directoryShard(accountId), 0);
      await drainOutbox(stub, { skipBackoff: true });
    }
    const healthy = await projectionHealth(env);
    expect(reportOf(healthy, dirTarget)).toMatchObject({ eventsBehind: 0, oldestUndeliveredAt: null });
    expect(reportOf(healthy, targetOf("audit", accountId))).toMatchObject({ eventsBehind: 0 });
  });

  it('rebuildProjection("audit") drops the read model and replays every account, equal again to the reducers', async () => {
    const accounts = await Promise.all(Array.from({ length: 4 }, () => registeredAccount()));
    await Promise.all(accounts.map(({ stub }, i) => traffic(stub, i)));
    for (const { stub } of accounts) await drainOutbox(stub);
    // A row no event accounts for: a rebuild from the log must not keep it.
    const victim = accounts[0]!.accountId;
    await runInDurableObject(auditShard(victim) as unknown as DurableObjectStub<ProjectionShard>, (_o, state) => {
      state.storage.sql.exec("UPDATE audit SET type = 'Forged' WHERE account_id = ? AND seq = 1", victim);
    });
    expect((await auditRowsOf(victim)).at(-1)).toMatchObject({ seq: 1, type: "Forged" });
    const rebuilt = await rebuildProjection(env, "audit");
    expect(rebuilt.shards).toBe(8);
    expect(rebuilt.sources).toBeGreaterThanOrEqual(accounts.length);
    for (const { stub, accountId } of accounts) {
      const status = await drainOutbox(stub);
      const m = await expectReadModelsEqualReducers(stub, accountId);
      expect(m.audit).toHaveLength(status.head);
    }
  });
});

describe("read-model upgrades: a shard made before directory v4 gains the service column in place", () => {
  it("waking with the v3 shape applies migration 4 once; rows written before it read back with no service", async () => {
    const shard = env.DIRECTORY.get(env.DIRECTORY.idFromName(`directory-upgrade-${crypto.randomUUID()}`));
    // Bring the shard to the shape it had before version 4: the directory table without `service`.
    await runInDurableObject(shard, (_instance: unknown, state) => {
      const sql = state.storage.sql;
      sql.exec("DROP TABLE directory");
      sql.exec(DIRECTORY_SQL);
      sql.exec("DELETE FROM schema_migrations WHERE version = 4");
      sql.exec(
        `INSERT INTO directory (account_id, email, status, roles, live_sessions, live_session_count, last_login_at,
           consecutive_failed_logins, locked_out, registered_at, last_seq) VALUES ('old', 'old@example.com', 'active', '[]', '[]', 0, NULL, 0, 0, 1, 3)`,
      );
    });
    await evictDurableObject(shard);
    const migrated = await runInDurableObject(shard, (_instance: unknown, state) => ({
      columns: state.storage.sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('directory')").toArray().map((c) => c.name),
      versions: state.storage.sql.exec<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version").toArray().map((r) => r.version),
    }));
    expect(migrated.columns).toContain("service");
    expect(migrated.versions).toEqual([1, 2, 3, 4]);
    expect(await shard.get("old")).toMatchObject({ email: "old@example.com", service: null, lastSeq: 3 });
  });
});
