// Idempotency keys: the first outcome of a keyed command is stored in the same transaction
// as its events; a retry with the same key gets that outcome back and appends nothing,
// also after eviction or restart (the row is durable). Unlike EventStoreDB's best-effort
// cache, the record is exact for the retention window below.
// Layout: idempotency(key PK, outcome JSON, created_at).

/** Stripe keeps keys for 24 hours; a retry after a day is a new request. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

export class IdempotencyKeys {
  constructor(private readonly sql: SqlStorage) {}

  recall<T>(key: string): T | null {
    const row = this.sql.exec<{ outcome: string }>("SELECT outcome FROM idempotency WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.outcome) as T) : null;
  }

  remember(key: string, outcome: unknown, at: number): void {
    this.sql.exec("INSERT INTO idempotency (key, outcome, created_at) VALUES (?,?,?)", key, JSON.stringify(outcome), at);
  }

  prune(now: number): void {
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_RETENTION_MS);
  }
}
