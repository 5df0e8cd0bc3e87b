// Outbox delivery from one account to its projection shards, driven by the account's alarm.
// At least once: a batch is re-sent until the shard confirms it; the shard applies each
// (account, seq) once and answers with its checkpoint, which becomes our cursor.

import { parseTarget } from "../../projections/sharding.ts";
import type { Env } from "../env.ts";
import type { EventStore } from "../store/event-store.ts";
import type { Outbox } from "../store/outbox.ts";

/** Events per delivery call, and calls per target per alarm run (then the alarm re-arms). */
export const DELIVERY_BATCH = 200;
const BATCHES_PER_RUN = 25;

export const shardStub = (env: Env, target: string) => {
  const parsed = parseTarget(target);
  if (!parsed) throw new Error(`unknown delivery target ${target}`);
  const namespace = parsed.projection === "directory" ? env.DIRECTORY : env.AUDIT;
  return namespace.get(namespace.idFromName(target));
};

export async function deliverPending(
  env: Env,
  accountId: string,
  store: EventStore,
  outbox: Outbox,
  head: () => number,
  now: () => number,
): Promise<void> {
  await Promise.all(
    outbox.due(head(), now()).map(async (row) => {
      let cursor = row.delivered_seq;
      for (let run = 0; run < BATCHES_PER_RUN && cursor < head(); run++) {
        const batch = store.after(cursor, DELIVERY_BATCH);
        const last = batch.at(-1)!;
        try {
          const { appliedThrough } = await shardStub(env, row.target).deliver(row.target, accountId, batch, {
            seq: head(),
            at: last.metadata.at,
          });
          outbox.confirmed(row.target, appliedThrough, now());
          // No progress means the shard wants something else (it was rebuilt): resend from its checkpoint.
          if (appliedThrough <= cursor && appliedThrough !== 0) break;
          cursor = appliedThrough;
        } catch (error) {
          outbox.failed(row.target, error instanceof Error ? error.message : String(error), now());
          return;
        }
      }
    }),
  );
}
