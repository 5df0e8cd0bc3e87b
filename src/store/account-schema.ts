// The account object's tables, as versioned migrations (see ARCHITECTURE.md "Storage").

import type { Migration } from "./migrations.ts";

export const ACCOUNT_MIGRATIONS: ReadonlyArray<Migration> = [
  {
    version: 1,
    description: "event log and secret side tables",
    sql: `
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, version INTEGER NOT NULL,
        data TEXT NOT NULL, metadata TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS credentials (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS auth_codes (
        code_hash TEXT PRIMARY KEY, ticket_id TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
        code_challenge TEXT NOT NULL, scopes TEXT NOT NULL, resource TEXT NOT NULL, expires_at INTEGER NOT NULL,
        redeemed_at INTEGER, session_id TEXT);
      CREATE TABLE IF NOT EXISTS refresh_tokens (
        token_hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, generation INTEGER NOT NULL, client_id TEXT NOT NULL,
        issued_at INTEGER NOT NULL, superseded_at INTEGER);
      CREATE INDEX IF NOT EXISTS refresh_tokens_by_session ON refresh_tokens (session_id);`,
  },
  {
    version: 2,
    description: "idempotency keys, snapshots, outbox delivery cursors",
    sql: `
      CREATE TABLE idempotency (key TEXT PRIMARY KEY, outcome TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX idempotency_by_age ON idempotency (created_at);
      CREATE TABLE snapshots (seq INTEGER PRIMARY KEY, state_version INTEGER NOT NULL, state TEXT NOT NULL,
        hash TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE outbox (target TEXT PRIMARY KEY, delivered_seq INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, last_attempt_at INTEGER);`,
  },
  {
    version: 3,
    description: "refresh grace window: the successor of a rotated token, sealed with the old token",
    sql: "ALTER TABLE refresh_tokens ADD COLUMN successor_sealed TEXT",
  },
  {
    version: 4,
    description: "second factor (TOTP seed, recovery codes) and the sign-in methods (amr) each code carries",
    // amr NULL: a code issued before MFA existed, signed in with a password (read as ["pwd"]).
    sql: `
      CREATE TABLE mfa_totp (id INTEGER PRIMARY KEY CHECK (id = 1), secret_sealed TEXT, secret_id TEXT,
        pending_sealed TEXT, pending_id TEXT, last_step INTEGER);
      CREATE TABLE mfa_recovery_codes (code_hash TEXT PRIMARY KEY, used_at INTEGER);
      ALTER TABLE auth_codes ADD COLUMN amr TEXT;`,
  },
  {
    version: 5,
    description: "when the person behind each code authenticated (auth_at), re-checked at redemption",
    // auth_at NULL: a code issued before this migration; read as its issue time (expires_at - CODE_TTL_MS).
    sql: "ALTER TABLE auth_codes ADD COLUMN auth_at INTEGER",
  },
];
