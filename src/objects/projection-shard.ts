// ProjectionShard: the common machinery of a global read-model shard (a Durable Object).
// Accounts deliver their events here (at least once, in batches, in order); the shard
// applies each (source, seq) exactly once, never skips one, and tells the sender how far it
// got, so a sender whose delivery was lost or duplicated simply continues from there.
// Layout: checkpoints(source PK, applied_seq, head_seq, head_at, pending_since, updated_at)
// plus the subclass's read-model tables. Subclasses add queries; reducers live in projections/.

import { DurableObject } from "cloudflare:workers";
import type { StoredEvent } from "../../domain/events.ts";
import type { Env } from "../env.ts";
import { migrate, type Migration } from "../store/migrations.ts";

export interface DeliveryHead {
  readonly seq: number;
  readonly at: number;
}

export interface ShardHealth {
  readonly target: string;
  readonly sources: number;
  readonly eventsApplied: number;
  /** Σ over sources of (newest seq the source reported − seq applied). */
  readonly eventsBehind: number;
  /** When the oldest event not yet applied was recorded (null when caught up). */
  readonly oldestUndeliveredAt: number | null;
}

export abstract class ProjectionShard extends DurableObject<Env> {
  /** Test hook for failure injection: the next N deliveries fail at the apply step (nothing applied). */
  failNextDeliveries = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, [
      {
        version: 1,
        description: "checkpoints per source",
        sql: `CREATE TABLE checkpoints (source TEXT PRIMARY KEY, applied_seq INTEGER NOT NULL, head_seq INTEGER NOT NULL,
                head_at INTEGER NOT NULL, pending_since INTEGER, updated_at INTEGER NOT NULL)`,
      },
      { version: 2, description: "read model", sql: this.readModelSql() },
      { version: 3, description: "shard identity", sql: "CREATE TABLE identity (id INTEGER PRIMARY KEY CHECK (id = 1), target TEXT NOT NULL)" },
      ...this.readModelUpgrades(),
    ]);
  }

  protected abstract readModelSql(): string;
  /**
   * Later changes to the read model's shape (versions 4 and up), applied once to a shard that
   * has the older shape, and again after a rebuild recreates the table from readModelSql().
   */
  protected readModelUpgrades(): ReadonlyArray<Migration> {
    return [];
  }
  protected abstract dropReadModelSql(): string;
  /** Applies one event of `source`; runs inside the delivery transaction. */
  protected abstract applyEvent(source: string, event: StoredEvent): void;

  private checkpoint(source: string): number {
    const row = this.ctx.storage.sql.exec<{ applied_seq: number }>("SELECT applied_seq FROM checkpoints WHERE source = ?", source).toArray()[0];
    return row?.applied_seq ?? 0;
  }

  /**
   * Applies `events` of `source` in seq order: an event at or below the checkpoint was
   * applied before (skipped: idempotent); a gap stops the batch (never skip an event).
   * Returns the checkpoint, which the sender adopts as its cursor.
   */
  deliver(target: string, source: string, events: ReadonlyArray<StoredEvent>, head: DeliveryHead): { appliedThrough: number } {
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT OR IGNORE INTO identity (id, target) VALUES (1, ?)", target);
    // The source's head is recorded before applying, on its own: if applying fails, the
    // lag it leaves behind is still visible in health().
    const before = this.checkpoint(source);
    sql.exec(
      `INSERT INTO checkpoints (source, applied_seq, head_seq, head_at, pending_since, updated_at) VALUES (?,?,?,?,?,?)
       ON CONFLICT (source) DO UPDATE SET head_seq = MAX(head_seq, excluded.head_seq), head_at = excluded.head_at,
         pending_since = COALESCE(pending_since, excluded.pending_since), updated_at = excluded.updated_at`,
      source, before, head.seq, head.at, head.seq > before ? (events[0]?.metadata.at ?? head.at) : null, Date.now(),
    );
    if (this.failNextDeliveries > 0) {
      this.failNextDeliveries -= 1;
      throw new Error("injected delivery failure");
    }
    return this.ctx.storage.transactionSync(() => {
      let applied = before;
      let lastAppliedAt: number | null = null;
      for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
        if (event.seq <= applied) continue;
        if (event.seq !== applied + 1) break;
        this.applyEvent(source, event);
        applied = event.seq;
        lastAppliedAt = event.metadata.at;
      }
      const headSeq = Math.max(head.seq, applied);
      const firstPending = events.find((e) => e.seq === applied + 1)?.metadata.at ?? lastAppliedAt ?? head.at;
      sql.exec(
        `UPDATE checkpoints SET applied_seq = ?, head_seq = MAX(head_seq, ?), pending_since = ?, updated_at = ? WHERE source = ?`,
        applied, headSeq, applied < headSeq ? firstPending : null, Date.now(), source,
      );
      return { appliedThrough: applied };
    });
  }

  health(): ShardHealth {
    const row = this.ctx.storage.sql
      .exec<{ sources: number; applied: number | null; behind: number | null; oldest: number | null }>(
        `SELECT COUNT(*) AS sources, SUM(applied_seq) AS applied, SUM(MAX(head_seq - applied_seq, 0)) AS behind,
                MIN(pending_since) AS oldest FROM checkpoints`,
      )
      .one();
    const target = this.ctx.storage.sql.exec<{ target: string }>("SELECT target FROM identity").toArray()[0]?.target ?? "unknown";
    return { target, sources: row.sources, eventsApplied: row.applied ?? 0, eventsBehind: row.behind ?? 0, oldestUndeliveredAt: row.oldest };
  }

  /**
   * Drops the read model and replays every source from seq 1: checkpoints go to zero and
   * each source account is asked to deliver again from the start. Sources are kept, so a
   * rebuild reaches every account that ever delivered here.
   */
  async rebuild(target: string): Promise<{ sources: number; unreachable: number }> {
    const sources = this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      sql.exec(this.dropReadModelSql());
      sql.exec(this.readModelSql());
      for (const upgrade of this.readModelUpgrades()) sql.exec(upgrade.sql);
      sql.exec("UPDATE checkpoints SET applied_seq = 0, pending_since = head_at");
      return sql.exec<{ source: string }>("SELECT source FROM checkpoints").toArray().map((r) => r.source);
    });
    // Every source is asked even if some cannot be reached now; those stay visibly behind
    // (their head_seq is kept) and catch up with their next append or wake-up.
    let unreachable = 0;
    for (let i = 0; i < sources.length; i += 50) {
      const asked = await Promise.allSettled(
        sources.slice(i, i + 50).map((source) => this.env.ACCOUNTS.get(this.env.ACCOUNTS.idFromName(source)).redeliver(target)),
      );
      unreachable += asked.filter((r) => r.status === "rejected").length;
    }
    return { sources: sources.length, unreachable };
  }
}
