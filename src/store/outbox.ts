// Transactional outbox. The event log itself is the outbox: an event is committed once,
// and `outbox` keeps, per delivery target (a projection shard), how far that target has
// confirmed. Pending work is "events after delivered_seq", so it exists exactly when the
// events do (same transaction, nothing to forget). Delivery is at least once; targets
// apply idempotently by (account, seq).
// Layout: outbox(target PK, delivered_seq, attempts, next_attempt_at, last_error, last_attempt_at).

export interface OutboxRow extends Record<string, SqlStorageValue> {
  target: string;
  delivered_seq: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  last_attempt_at: number | null;
}

/** Exponential backoff: 1 s, 2 s, 4 s … capped at 5 minutes. */
export const backoffMs = (attempts: number): number => Math.min(1000 * 2 ** Math.max(0, attempts - 1), 5 * 60 * 1000);

export class Outbox {
  constructor(private readonly sql: SqlStorage) {}

  ensure(targets: ReadonlyArray<string>): void {
    for (const target of targets) this.sql.exec("INSERT OR IGNORE INTO outbox (target) VALUES (?)", target);
  }

  rows(): OutboxRow[] {
    return this.sql.exec<OutboxRow>("SELECT * FROM outbox ORDER BY target").toArray();
  }

  /** Targets behind `head` whose next attempt is due. */
  due(head: number, now: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>("SELECT * FROM outbox WHERE delivered_seq < ? AND next_attempt_at <= ? ORDER BY target", head, now)
      .toArray();
  }

  /** When the earliest pending target should next be tried, or null when all are caught up. */
  nextAttemptAt(head: number): number | null {
    const row = this.sql
      .exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE delivered_seq < ?", head)
      .toArray()[0];
    return row?.at ?? null;
  }

  /**
   * The target confirmed it has applied through `seq`. This may move the cursor back (a
   * rebuilt target starts over), so the next delivery resends what the target is missing.
   */
  confirmed(target: string, seq: number, now: number): void {
    this.sql.exec(
      "UPDATE outbox SET delivered_seq = ?, attempts = 0, next_attempt_at = 0, last_error = NULL, last_attempt_at = ? WHERE target = ?",
      seq, now, target,
    );
  }

  failed(target: string, error: string, now: number): void {
    const row = this.sql.exec<{ attempts: number }>("SELECT attempts FROM outbox WHERE target = ?", target).toArray()[0];
    const attempts = (row?.attempts ?? 0) + 1;
    this.sql.exec(
      "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?, last_attempt_at = ? WHERE target = ?",
      attempts, now + backoffMs(attempts), error.slice(0, 500), now, target,
    );
  }

  rewind(target: string): void {
    this.sql.exec("UPDATE outbox SET delivered_seq = 0, attempts = 0, next_attempt_at = 0 WHERE target = ?", target);
  }
}
