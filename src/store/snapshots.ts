// Snapshots of the folded account state, every N events (SNAPSHOT_EVERY), so an account with
// a long log wakes by decoding one row and folding only the tail after it.
// Layout: snapshots(seq PK, state_version, state JSON, hash = the log's head hash at seq, created_at).
// The wake-up replays the tail from `hash`, so the tail's chain is still verified.

import { decodeState, encodeState, STATE_VERSION } from "../../domain/snapshot.ts";
import type { AccountState } from "../../domain/account.ts";

/** Keep a couple: a snapshot written by newer code is skipped by older code, and vice versa. */
const KEEP = 2;

export class Snapshots {
  constructor(private readonly sql: SqlStorage) {}

  latest(): { seq: number; hash: string; state: AccountState } | null {
    const row = this.sql
      .exec<{ seq: number; hash: string; state: string }>(
        "SELECT seq, hash, state FROM snapshots WHERE state_version = ? ORDER BY seq DESC LIMIT 1",
        STATE_VERSION,
      )
      .toArray()[0];
    return row ? { seq: row.seq, hash: row.hash, state: decodeState(row.state) } : null;
  }

  save(seq: number, hash: string, state: AccountState, at: number): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO snapshots (seq, state_version, state, hash, created_at) VALUES (?,?,?,?,?)",
      seq, STATE_VERSION, encodeState(state), hash, at,
    );
    this.sql.exec(
      "DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)", KEEP,
    );
  }

  /** Whether appending from `before` to `after` crossed a multiple of `every`. */
  static due(before: number, after: number, every: number): boolean {
    return every > 0 && Math.floor(after / every) > Math.floor(before / every);
  }
}
