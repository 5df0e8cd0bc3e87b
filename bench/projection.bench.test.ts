// Projection catch-up: 100,000 events across 1,000 accounts delivered to the sharded
// directory and audit index, against raw inserts of the same rows (the physical limit).

import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { it } from "vitest";
import { auditColumns, toAuditRow } from "../projections/audit.ts";
import { targetsFor } from "../projections/sharding.ts";
import type { AccountObject } from "../src/objects/account-object.ts";
import type { AccountLog } from "../src/objects/account-log.ts";
import type { AuditShardObject } from "../src/objects/audit-shard-object.ts";
import type { Outbox } from "../src/store/outbox.ts";
import { projectionHealth } from "../src/services/projections.ts";
import { ratio, table, time } from "./measure.ts";

const ACCOUNTS = 1_000;
const EVENTS_PER_ACCOUNT = 100;
const meta = () => ({ requestId: crypto.randomUUID(), at: Date.now(), clientIp: null, userAgent: "bench" });
type Internals = { log: AccountLog; outbox: Outbox };

it("projection catch-up: 100,000 events across 1,000 accounts", async () => {
  // Write every account's log without arming delivery, so catch-up is timed from one start.
  const ids: string[] = [];
  for (let a = 0; a < ACCOUNTS; a++) {
    const accountId = crypto.randomUUID();
    ids.push(accountId);
    await runInDurableObject(env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId)), (instance: AccountObject) => {
      const { log } = instance as unknown as Internals;
      const user = { kind: "user" as const, id: accountId };
      log.execute([{ command: { _tag: "RegisterAccount", accountId, email: `${accountId}@bench.test` }, actor: user }], meta());
      for (let i = log.head.seq; i < EVENTS_PER_ACCOUNT; i++) {
        log.execute([{ command: { _tag: "RecordLogin", passwordMatches: i % 4 !== 0, clientId: null, at: Date.now() }, actor: user }], meta());
      }
    });
  }
  const total = ACCOUNTS * EVENTS_PER_ACCOUNT;

  const catchUp = await time(async () => {
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((accountId) =>
          runInDurableObject(env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId)), (instance: AccountObject, state) => {
            (instance as unknown as Internals).outbox.ensure(targetsFor(accountId));
            return state.storage.setAlarm(Date.now());
          }),
        ),
      );
    }
    for (let polls = 0; polls < 6_000; polls++) {
      const shards = await projectionHealth(env);
      const applied = shards.reduce((n, s) => n + ("eventsApplied" in s ? s.eventsApplied : 0), 0);
      const behind = shards.reduce((n, s) => n + ("eventsBehind" in s ? s.eventsBehind : 1), 0);
      if (applied === 2 * total && behind === 0) return polls;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error("projections did not catch up within the poll budget");
  });

  // Baseline: the same 100,000 audit rows inserted raw into one shard, 200 per transaction.
  const sample = await env.ACCOUNTS.get(env.ACCOUNTS.idFromName(ids[0]!)).events(null, 100);
  const baseline = await time(() =>
    runInDurableObject(env.AUDIT.get(env.AUDIT.idFromName("bench/raw")), (_i: AuditShardObject, state) => {
      state.storage.sql.exec("CREATE TABLE IF NOT EXISTS raw_audit (account_id TEXT, seq INTEGER, event_id TEXT, type TEXT, version INTEGER, actor_kind TEXT, actor_id TEXT, at INTEGER, outcome TEXT, request_id TEXT, data TEXT, hash TEXT, PRIMARY KEY (account_id, seq))");
      for (let a = 0; a < ACCOUNTS; a++) {
        const accountId = `raw-${a}`;
        for (let start = 0; start < EVENTS_PER_ACCOUNT; start += 200) {
          state.storage.transactionSync(() => {
            for (const event of sample.slice(start, start + 200)) {
              state.storage.sql.exec("INSERT INTO raw_audit VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", ...auditColumns(toAuditRow(accountId, event)));
            }
          });
        }
      }
    }),
  );
  table(`Projection catch-up (${total.toLocaleString("en")} events, ${ACCOUNTS} accounts → 4 directory + 8 audit shards; single run)`, [
    { path: "raw INSERT of the audit rows into one shard (baseline)", ms: baseline.ms, "events/s": Math.round((total / Math.max(baseline.ms, 1)) * 1000), "vs baseline": "1.00×" },
    { path: "alarm-driven delivery until every shard's lag is 0 (directory + audit)", ms: catchUp.ms, "events/s": Math.round((total / Math.max(catchUp.ms, 1)) * 1000), "vs baseline": ratio(catchUp.ms, baseline.ms) + " time" },
  ]);
});
