// DirectoryShardObject: one shard of the operator directory (projections/directory.ts).
// Named "directory/<n>"; accounts are assigned by projections/sharding.ts.

import { emptyDirectoryRow, directoryColumns, directoryFromRecord, DIRECTORY_SERVICE_SQL, DIRECTORY_SQL, reduceDirectory, type DirectoryRecord, type DirectoryRow } from "../../projections/directory.ts";
import type { StoredEvent } from "../../domain/events.ts";
import { ProjectionShard } from "./projection-shard.ts";

export interface DirectoryQuery {
  /** People (by email, the default) or service accounts (by id). */
  readonly kind?: "people" | "services";
  readonly status?: "active" | "closed";
  readonly emailPrefix?: string;
  readonly limit: number;
  /** Exclusive cursor: (email, accountId) of the last row of the previous page. */
  readonly after?: { readonly email: string; readonly accountId: string };
}

export class DirectoryShardObject extends ProjectionShard {
  protected readModelSql() {
    return DIRECTORY_SQL;
  }

  protected override readModelUpgrades() {
    return [{ version: 4, description: "directory: service accounts", sql: DIRECTORY_SERVICE_SQL }];
  }

  protected dropReadModelSql() {
    return "DROP TABLE IF EXISTS directory";
  }

  private row(accountId: string): DirectoryRow | null {
    const record = this.ctx.storage.sql.exec<DirectoryRecord>("SELECT * FROM directory WHERE account_id = ?", accountId).toArray()[0];
    return record ? directoryFromRecord(record) : null;
  }

  protected applyEvent(source: string, event: StoredEvent): void {
    const next = reduceDirectory(this.row(source) ?? emptyDirectoryRow(source), event);
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO directory (account_id, email, status, roles, live_sessions, live_session_count, last_login_at,
         consecutive_failed_logins, locked_out, registered_at, last_seq, service) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
      ...directoryColumns(next),
    );
  }

  get(accountId: string): DirectoryRow | null {
    return this.row(accountId);
  }

  /**
   * People ordered by (email, accountId), service accounts by accountId (their email is null, so
   * the same cursor works); unregistered rows (neither yet) are not listed.
   */
  list(query: DirectoryQuery): DirectoryRow[] {
    const where = [query.kind === "services" ? "service IS NOT NULL" : "email IS NOT NULL"];
    const args: Array<string | number> = [];
    if (query.status) (where.push("status = ?"), args.push(query.status));
    if (query.emailPrefix) (where.push("email >= ? AND email < ?"), args.push(query.emailPrefix, query.emailPrefix + "\uffff"));
    if (query.after && query.kind === "services") (where.push("account_id > ?"), args.push(query.after.accountId));
    else if (query.after) (where.push("(email > ? OR (email = ? AND account_id > ?))"), args.push(query.after.email, query.after.email, query.after.accountId));
    return this.ctx.storage.sql
      .exec<DirectoryRecord>(`SELECT * FROM directory WHERE ${where.join(" AND ")} ORDER BY email, account_id LIMIT ?`, ...args, query.limit)
      .toArray()
      .map(directoryFromRecord);
  }
}
