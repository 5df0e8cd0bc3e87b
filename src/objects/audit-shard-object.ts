// AuditShardObject: one shard of the audit index (projections/audit.ts). Named "audit/<n>".

import { AUDIT_SQL, auditColumns, auditFromRecord, toAuditRow, type AuditQuery, type AuditRecord, type AuditRow } from "../../projections/audit.ts";
import type { StoredEvent } from "../../domain/events.ts";
import { ProjectionShard } from "./projection-shard.ts";

export class AuditShardObject extends ProjectionShard {
  protected readModelSql() {
    return AUDIT_SQL;
  }

  protected dropReadModelSql() {
    return "DROP TABLE IF EXISTS audit";
  }

  protected applyEvent(source: string, event: StoredEvent): void {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO audit (account_id, seq, event_id, type, version, actor_kind, actor_id, at, outcome, request_id, data, hash)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
      ...auditColumns(toAuditRow(source, event)),
    );
  }

  /** Newest first, in the total order of compareAuditDesc, strictly after the cursor. */
  query(query: AuditQuery): AuditRow[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const filter = (clause: string, ...values: Array<string | number>) => (where.push(clause), args.push(...values));
    if (query.accountId !== undefined) filter("account_id = ?", query.accountId);
    if (query.actorId !== undefined) filter("actor_id = ?", query.actorId);
    if (query.type !== undefined) filter("type = ?", query.type);
    if (query.outcome !== undefined) filter("outcome = ?", query.outcome);
    if (query.from !== undefined) filter("at >= ?", query.from);
    if (query.to !== undefined) filter("at < ?", query.to);
    if (query.before) {
      const { at, accountId, seq } = query.before;
      filter("(at < ? OR (at = ? AND (account_id < ? OR (account_id = ? AND seq < ?))))", at, at, accountId, accountId, seq);
    }
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    return this.ctx.storage.sql
      .exec<AuditRecord>(`SELECT * FROM audit ${clause} ORDER BY at DESC, account_id DESC, seq DESC LIMIT ?`, ...args, query.limit)
      .toArray()
      .map(auditFromRecord);
  }
}
