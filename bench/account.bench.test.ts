// Account object benchmarks: append throughput against raw SQLite inserts in the same
// object (the physical limit), and wake-up time with and without snapshots.

import { env } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { it } from "vitest";
import type { AccountObject } from "../src/objects/account-object.ts";
import type { AccountLog } from "../src/objects/account-log.ts";
import { medianOf, ratio, table, time } from "./measure.ts";

const meta = () => ({ requestId: crypto.randomUUID(), at: Date.now(), clientIp: null, userAgent: "bench" });
const logOf = (instance: AccountObject) => (instance as unknown as { log: AccountLog }).log;
const password = { scheme: "scrypt" as const, n: 2 ** 15, r: 8, p: 3, salt: "c2FsdA==", hash: "aGFzaA==" };

async function newAccount() {
  const accountId = crypto.randomUUID();
  const stub = env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));
  await stub.register({ accountId, email: `${accountId}@bench.test`, password, isAdmin: false }, meta());
  return { accountId, stub };
}

/** Appends `count` login events through the account's decider and log, inside the object. */
const appendLogins = (instance: AccountObject, count: number) => {
  for (let i = 0; i < count; i++) {
    instance.execute([{ command: { _tag: "RecordLogin", passwordMatches: i % 3 !== 0, clientId: null, at: Date.now() }, actor: { kind: "user", id: "bench" } }], meta());
  }
};

it("append throughput: account object vs raw SQLite inserts", async () => {
  const N = 5_000;
  const { stub } = await newAccount();
  const viaObject = await medianOf(3, async () => (await time(() => runInDurableObject(stub, (i: AccountObject) => appendLogins(i, N)))).ms);
  const viaRaw = await medianOf(3, async () =>
    (await time(() =>
      runInDurableObject(stub, (_i: AccountObject, state) => {
        state.storage.sql.exec("CREATE TABLE IF NOT EXISTS bench_raw (seq INTEGER PRIMARY KEY, event_id TEXT, type TEXT, version INTEGER, data TEXT, metadata TEXT, prev_hash TEXT, hash TEXT)");
        const data = JSON.stringify({ _tag: "LoginSucceeded", clientId: null });
        const metadata = JSON.stringify({ ...meta(), actor: { kind: "user", id: "bench" } });
        for (let i = 0; i < N; i++) {
          state.storage.transactionSync(() =>
            state.storage.sql.exec("INSERT INTO bench_raw (event_id, type, version, data, metadata, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
              crypto.randomUUID(), "LoginSucceeded", 1, data, metadata, "0".repeat(64), "0".repeat(64)),
          );
        }
      }),
    )).ms,
  );
  const RPC_N = 500;
  const viaRpc = await medianOf(3, async () =>
    (await time(async () => {
      for (let i = 0; i < RPC_N; i++) await stub.recordLogin(true, null, meta());
    })).ms,
  );
  const rpcCeiling = await medianOf(3, async () =>
    (await time(async () => {
      for (let i = 0; i < RPC_N; i++) await stub.view();
    })).ms,
  );
  const perSecond = (n: number, ms: number) => Math.round((n / Math.max(ms, 1)) * 1000);
  table(`Appends per second (median of 3 runs; ${N} appends in-object, ${RPC_N} over RPC)`, [
    { path: "raw INSERT, one transaction each (baseline)", "appends/s": perSecond(N, viaRaw), "vs baseline": "1.00×" },
    { path: "AccountObject.execute (decide + evolve + hash chain + transaction)", "appends/s": perSecond(N, viaObject), "vs baseline": ratio(perSecond(N, viaObject), perSecond(N, viaRaw)) },
    { path: "recordLogin RPC from the Worker, sequential", "appends/s": perSecond(RPC_N, viaRpc), "vs baseline": ratio(perSecond(RPC_N, viaRpc), perSecond(N, viaRaw)) },
    { path: "view() RPC, no append (the RPC round-trip ceiling)", "appends/s": perSecond(RPC_N, rpcCeiling), "vs baseline": ratio(perSecond(RPC_N, rpcCeiling), perSecond(N, viaRaw)) },
  ]);
});

it("wake-up time with and without snapshots", async () => {
  const rows: Array<Record<string, string | number>> = [];
  for (const size of [1_000, 10_000, 100_000]) {
    const { stub } = await newAccount();
    for (let done = 3; done < size; done += 5_000) {
      await runInDurableObject(stub, (i: AccountObject) => appendLogins(i, Math.min(5_000, size - done)));
    }
    const wake = async () => {
      await evictDurableObject(stub);
      return (await time(() => stub.view())).ms;
    };
    const withSnapshots = await medianOf(3, wake);
    await runInDurableObject(stub, (_i: AccountObject, state) => void state.storage.sql.exec("DELETE FROM snapshots"));
    const withoutSnapshots = await medianOf(3, wake);
    const head = await runInDurableObject(stub, (i: AccountObject) => logOf(i).head.seq);
    rows.push({ events: head, "with snapshots (ms)": withSnapshots, "full replay (ms)": withoutSnapshots, "speed-up": ratio(withoutSnapshots, withSnapshots) });
  }
  table("Wake-up: first call after eviction (median of 3; snapshot every 1,000 events)", rows);
});
