// Operator directory: one row per account. A pure reducer over the account's events, and
// the SQL shape the DirectoryShardObject stores it in. Total over every event type: a
// recorded event never makes it throw.

import type { StoredEvent } from "../domain/events.ts";
import type { Role } from "../domain/roles.ts";

export interface DirectoryRow {
  readonly accountId: string;
  readonly email: string | null;
  readonly status: "active" | "closed";
  readonly roles: ReadonlyArray<Role>;
  /** Live session ids (started, not revoked, not recorded as expired). */
  readonly liveSessions: ReadonlyArray<string>;
  readonly lastLoginAt: number | null;
  readonly consecutiveFailedLogins: number;
  /** Locked by repeated failed sign-ins (until the recorded unlock). */
  readonly lockedOut: boolean;
  readonly registeredAt: number | null;
  readonly lastSeq: number;
  /** A service account (no email): its name and the one client that acts as it. */
  readonly service: { readonly name: string; readonly clientId: string } | null;
}

export const emptyDirectoryRow = (accountId: string): DirectoryRow => ({
  accountId,
  email: null,
  status: "active",
  roles: [],
  liveSessions: [],
  lastLoginAt: null,
  consecutiveFailedLogins: 0,
  lockedOut: false,
  registeredAt: null,
  lastSeq: 0,
  service: null,
});

const without = <T>(items: ReadonlyArray<T>, item: T) => items.filter((x) => x !== item);

export const reduceDirectory = (row: DirectoryRow, stored: StoredEvent): DirectoryRow => {
  const next = { ...row, lastSeq: stored.seq };
  const event = stored.data;
  switch (event._tag) {
    case "AccountRegistered":
      return { ...next, email: event.email, registeredAt: stored.metadata.at };
    case "ServiceAccountRegistered":
      // A service account has no email: operators list it by kind, with its name and client.
      return { ...next, registeredAt: stored.metadata.at, service: { name: event.name, clientId: event.clientId } };
    case "RoleGranted":
      return row.roles.includes(event.role) ? next : { ...next, roles: [...row.roles, event.role] };
    case "RoleExpired":
      return { ...next, roles: without(row.roles, event.role) };
    case "LoginSucceeded":
      return { ...next, lastLoginAt: stored.metadata.at, consecutiveFailedLogins: 0 };
    case "LoginFailed":
      return { ...next, consecutiveFailedLogins: event.failedAttempts };
    case "SessionStarted":
      return { ...next, liveSessions: [...without(row.liveSessions, event.sessionId), event.sessionId] };
    case "SessionRevoked":
    case "SessionExpired":
      return { ...next, liveSessions: without(row.liveSessions, event.sessionId) };
    case "AccountClosed":
      return { ...next, status: "closed", liveSessions: [] };
    case "AccountLocked":
      return { ...next, lockedOut: true };
    case "AccountUnlocked":
      return { ...next, lockedOut: false, consecutiveFailedLogins: event.reason === "operator" ? 0 : row.consecutiveFailedLogins };
    case "PasswordSet":
    case "ConsentGranted":
    case "ConsentDenied":
    case "ConsentRevoked":
    case "TokenRefreshed":
    case "ToolInvoked":
    case "PasswordVerified":
    case "MfaVerified":
    case "MfaEnabled":
    case "MfaDisabled":
    case "RecoveryCodeUsed":
    case "RecoveryCodesRegenerated":
    case "PasswordChanged":
    case "ClientRegistered":
    case "ClientDisabled":
      return next;
  }
};

export const DIRECTORY_SQL = `
  CREATE TABLE IF NOT EXISTS directory (
    account_id TEXT PRIMARY KEY,
    email TEXT,
    status TEXT NOT NULL,
    roles TEXT NOT NULL,
    live_sessions TEXT NOT NULL,
    live_session_count INTEGER NOT NULL,
    last_login_at INTEGER,
    consecutive_failed_logins INTEGER NOT NULL,
    locked_out INTEGER NOT NULL,
    registered_at INTEGER,
    last_seq INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS directory_by_email ON directory (email, account_id);
`;

/** Read-model version 4: service accounts in the directory (added to shards made before it). */
export const DIRECTORY_SERVICE_SQL = "ALTER TABLE directory ADD COLUMN service TEXT";

export const directoryColumns = (row: DirectoryRow) => [
  row.accountId, row.email, row.status, JSON.stringify(row.roles), JSON.stringify(row.liveSessions),
  row.liveSessions.length, row.lastLoginAt, row.consecutiveFailedLogins, row.lockedOut ? 1 : 0, row.registeredAt, row.lastSeq,
  row.service === null ? null : JSON.stringify(row.service),
] as const;

export interface DirectoryRecord extends Record<string, SqlValue> {
  account_id: string; email: string | null; status: string; roles: string; live_sessions: string;
  live_session_count: number; last_login_at: number | null; consecutive_failed_logins: number;
  locked_out: number; registered_at: number | null; last_seq: number; service: string | null;
}
type SqlValue = string | number | null | ArrayBuffer;

export const directoryFromRecord = (r: DirectoryRecord): DirectoryRow => ({
  accountId: r.account_id,
  email: r.email,
  status: r.status as DirectoryRow["status"],
  roles: JSON.parse(r.roles),
  liveSessions: JSON.parse(r.live_sessions),
  lastLoginAt: r.last_login_at,
  consecutiveFailedLogins: r.consecutive_failed_logins,
  lockedOut: r.locked_out === 1,
  registeredAt: r.registered_at,
  lastSeq: r.last_seq,
  service: r.service ? JSON.parse(r.service) : null,
});
