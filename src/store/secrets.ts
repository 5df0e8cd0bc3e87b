// Side tables for the secrets of one account. Never events, never logged, never exported:
// the event log records that a thing happened; these tables hold what proves it.
//
//   credentials(id=1, hash JSON)              the scrypt hash and its parameters
//   auth_codes(code_hash PK, ticket_id UNIQUE, client_id, redirect_uri, code_challenge,
//              scopes JSON, resource, expires_at, redeemed_at, session_id, amr JSON, auth_at)
//   mfa_totp, mfa_recovery_codes                 the second factor (src/store/mfa-secrets.ts)
//   refresh_tokens(token_hash PK, session_id, generation, client_id, issued_at, superseded_at,
//                  successor_sealed)
// Codes and refresh tokens are stored as SHA-256 hashes only: a leaked database cannot be
// replayed (RFC 9700 §4.14, Cloudflare OAuth provider does the same).

import { sha256Hex } from "../crypto.ts";
import type { PasswordHash } from "../password.ts";

export interface AuthCodeRow extends Record<string, SqlStorageValue> {
  code_hash: string;
  ticket_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  scopes: string;
  resource: string;
  expires_at: number;
  redeemed_at: number | null;
  session_id: string | null;
  /** RFC 8176 methods of the sign-in that led to this code (JSON); NULL on pre-MFA rows = ["pwd"]. */
  amr: string | null;
  /** When the person behind this code authenticated (ms); NULL on rows older than migration 5. */
  auth_at: number | null;
}

export interface RefreshTokenRow extends Record<string, SqlStorageValue> {
  token_hash: string;
  session_id: string;
  generation: number;
  client_id: string;
  issued_at: number;
  superseded_at: number | null;
  /** The successor token sealed with this (old) token: readable only by its holder. */
  successor_sealed: string | null;
}

export class AccountSecrets {
  /** The tables come from the account's migrations (src/store/account-schema.ts). */
  constructor(private readonly sql: SqlStorage) {}

  setPassword(hash: PasswordHash): void {
    this.sql.exec("INSERT OR REPLACE INTO credentials (id, hash) VALUES (1, ?)", JSON.stringify(hash));
  }

  password(): PasswordHash | null {
    const row = this.sql.exec<{ hash: string }>("SELECT hash FROM credentials WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.hash) as PasswordHash) : null;
  }

  ticketUsed(ticketId: string): boolean {
    return this.sql.exec("SELECT 1 FROM auth_codes WHERE ticket_id = ?", ticketId).toArray().length > 0;
  }

  insertCode(code: string, row: Omit<AuthCodeRow, "code_hash" | "redeemed_at" | "session_id">): void {
    this.sql.exec(
      `INSERT INTO auth_codes (code_hash, ticket_id, client_id, redirect_uri, code_challenge, scopes,
         resource, expires_at, amr, auth_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
      sha256Hex(code), row.ticket_id, row.client_id, row.redirect_uri, row.code_challenge, row.scopes,
      row.resource, row.expires_at, row.amr, row.auth_at,
    );
  }

  findCode(code: string): AuthCodeRow | null {
    return (
      this.sql.exec<AuthCodeRow>("SELECT * FROM auth_codes WHERE code_hash = ?", sha256Hex(code)).toArray()[0] ??
      null
    );
  }

  /** Marks the code used; `sessionId` is null when the code was burned without issuing. */
  redeemCode(codeHash: string, at: number, sessionId: string | null): void {
    this.sql.exec(
      "UPDATE auth_codes SET redeemed_at = ?, session_id = ? WHERE code_hash = ?", at, sessionId, codeHash,
    );
  }

  insertRefreshToken(token: string, sessionId: string, generation: number, clientId: string, at: number): void {
    this.sql.exec(
      "INSERT INTO refresh_tokens (token_hash, session_id, generation, client_id, issued_at) VALUES (?,?,?,?,?)",
      sha256Hex(token), sessionId, generation, clientId, at,
    );
  }

  findRefreshToken(token: string): RefreshTokenRow | null {
    return (
      this.sql
        .exec<RefreshTokenRow>("SELECT * FROM refresh_tokens WHERE token_hash = ?", sha256Hex(token))
        .toArray()[0] ?? null
    );
  }

  supersede(tokenHash: string, at: number, successorSealed: string | null = null): void {
    this.sql.exec("UPDATE refresh_tokens SET superseded_at = ?, successor_sealed = ? WHERE token_hash = ?", at, successorSealed, tokenHash);
  }

  /** A revoked session's refresh tokens are all dead; keep rows for reuse detection. */
  supersedeSession(sessionId: string, at: number): void {
    this.sql.exec(
      "UPDATE refresh_tokens SET superseded_at = ? WHERE session_id = ? AND superseded_at IS NULL",
      at, sessionId,
    );
  }

  /** A closed account's refresh tokens are all dead. */
  supersedeAll(at: number): void {
    this.sql.exec("UPDATE refresh_tokens SET superseded_at = ? WHERE superseded_at IS NULL", at);
  }
}
