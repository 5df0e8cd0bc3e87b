// Audit index: every event of every account, one row each, queryable by account, actor,
// type, time range and outcome. A pure mapping from a stored event to its row, and the SQL
// shape the AuditShardObject stores it in. Events carry no secrets, so neither does this.

import type { StoredEvent } from "../domain/events.ts";

export type AuditOutcome = "success" | "failure" | "allowed" | "denied" | null;

export interface AuditRow {
  readonly accountId: string;
  readonly seq: number;
  readonly eventId: string;
  readonly type: string;
  readonly version: number;
  readonly actorKind: string;
  readonly actorId: string;
  readonly at: number;
  readonly outcome: AuditOutcome;
  readonly requestId: string;
  readonly data: unknown;
  readonly hash: string;
}

/** The outcome an auditor filters on: did the attempt succeed, was the action allowed. */
export const outcomeOf = (stored: StoredEvent): AuditOutcome => {
  const event = stored.data;
  switch (event._tag) {
    case "LoginSucceeded": return "success";
    case "LoginFailed": return "failure";
    case "AccountLocked": return "failure";
    case "ConsentGranted": return "allowed";
    case "ConsentDenied": return "denied";
    case "ToolInvoked": return event.outcome;
    default: return null;
  }
};

export const toAuditRow = (accountId: string, stored: StoredEvent): AuditRow => ({
  accountId,
  seq: stored.seq,
  eventId: stored.eventId,
  type: stored.type,
  version: stored.version,
  actorKind: stored.metadata.actor.kind,
  actorId: stored.metadata.actor.id,
  at: stored.metadata.at,
  outcome: outcomeOf(stored),
  requestId: stored.metadata.requestId,
  data: stored.data,
  hash: stored.hash,
});

export const AUDIT_SQL = `
  CREATE TABLE IF NOT EXISTS audit (
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    outcome TEXT,
    request_id TEXT NOT NULL,
    data TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (account_id, seq)
  );
  CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at, account_id, seq);
  CREATE INDEX IF NOT EXISTS audit_by_actor ON audit (actor_id, at);
  CREATE INDEX IF NOT EXISTS audit_by_type ON audit (type, at);
  CREATE INDEX IF NOT EXISTS audit_by_outcome ON audit (outcome, at);
`;

export const auditColumns = (row: AuditRow) => [
  row.accountId, row.seq, row.eventId, row.type, row.version, row.actorKind, row.actorId, row.at,
  row.outcome, row.requestId, JSON.stringify(row.data), row.hash,
] as const;

export interface AuditRecord extends Record<string, string | number | null | ArrayBuffer> {
  account_id: string; seq: number; event_id: string; type: string; version: number; actor_kind: string;
  actor_id: string; at: number; outcome: string | null; request_id: string; data: string; hash: string;
}

export const auditFromRecord = (r: AuditRecord): AuditRow => ({
  accountId: r.account_id, seq: r.seq, eventId: r.event_id, type: r.type, version: r.version,
  actorKind: r.actor_kind, actorId: r.actor_id, at: r.at, outcome: r.outcome as AuditOutcome,
  requestId: r.request_id, data: JSON.parse(r.data), hash: r.hash,
});

/** Newest first; the cursor is the last row's (at, accountId, seq). */
export interface AuditQuery {
  readonly accountId?: string;
  readonly actorId?: string;
  readonly type?: string;
  readonly outcome?: Exclude<AuditOutcome, null>;
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
  readonly before?: { readonly at: number; readonly accountId: string; readonly seq: number };
}

/** Orders rows newest first with a total order, so merging shards and paging are exact. */
export const compareAuditDesc = (a: AuditRow, b: AuditRow): number =>
  b.at - a.at || (a.accountId < b.accountId ? 1 : a.accountId > b.accountId ? -1 : 0) || b.seq - a.seq;
