// Side tables of the second factor, in the account's own SQLite (migration 4). Never events,
// never logged, never exported: MfaEnabled / RecoveryCodeUsed record that a thing happened,
// these rows hold what proves it.
//
//   mfa_totp(id=1, secret_sealed, secret_id, pending_sealed, pending_id, last_step)
//     secret_*  the active TOTP seed, AES-GCM sealed by the Worker (src/mfa-vault.ts): the row
//               alone does not reveal the seed; secret_id names the enrollment it came from
//     pending_* a seed shown on the enrollment page and not yet confirmed by a first code
//     last_step the last RFC 6238 time step accepted: a code is accepted at most once (§5.2)
//   mfa_recovery_codes(code_hash PK, used_at)
//     SHA-256 of each recovery code. The codes are 80 random bits each, so a fast hash is
//     enough (no offline guessing of 2^80 candidates); a slow KDF is for low-entropy passwords.

import { sha256Hex } from "../crypto.ts";

export interface TotpRow extends Record<string, SqlStorageValue> {
  secret_sealed: string | null;
  secret_id: string | null;
  pending_sealed: string | null;
  pending_id: string | null;
  last_step: number | null;
}

/** What a person may type: case, spaces and dashes do not matter. */
export const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[^a-z0-9]/g, "");
export const recoveryCodeHash = (code: string) => sha256Hex(`warden-recovery-code:${normalizeRecoveryCode(code)}`);

export class MfaSecrets {
  constructor(private readonly sql: SqlStorage) {}

  totp(): TotpRow | null {
    return this.sql.exec<TotpRow>("SELECT secret_sealed, secret_id, pending_sealed, pending_id, last_step FROM mfa_totp WHERE id = 1").toArray()[0] ?? null;
  }

  /** A new pending seed replaces any earlier one that was never confirmed. */
  startEnrollment(sealed: string, pendingId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO mfa_totp (id) VALUES (1)");
    this.sql.exec("UPDATE mfa_totp SET pending_sealed = ?, pending_id = ? WHERE id = 1", sealed, pendingId);
  }

  /** The pending seed becomes the active one; the step of its first code counts as used. */
  confirmEnrollment(pendingId: string, step: number): void {
    this.sql.exec(
      `UPDATE mfa_totp SET secret_sealed = pending_sealed, secret_id = pending_id, last_step = ?,
         pending_sealed = NULL, pending_id = NULL WHERE id = 1 AND pending_id = ?`,
      step, pendingId,
    );
  }

  /** Whether `step` of seed `secretId` is still unused (later than the last accepted step). */
  stepUnused(secretId: string, step: number): boolean {
    const row = this.totp();
    return row !== null && row.secret_id === secretId && (row.last_step === null || step > row.last_step);
  }

  acceptStep(step: number): void {
    this.sql.exec("UPDATE mfa_totp SET last_step = ? WHERE id = 1", step);
  }

  replaceRecoveryCodes(codes: ReadonlyArray<string>): void {
    this.sql.exec("DELETE FROM mfa_recovery_codes");
    for (const code of codes) this.sql.exec("INSERT INTO mfa_recovery_codes (code_hash) VALUES (?)", recoveryCodeHash(code));
  }

  recoveryCodeUnused(code: string): boolean {
    return this.sql.exec("SELECT 1 FROM mfa_recovery_codes WHERE code_hash = ? AND used_at IS NULL", recoveryCodeHash(code)).toArray().length > 0;
  }

  useRecoveryCode(code: string, at: number): void {
    this.sql.exec("UPDATE mfa_recovery_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL", at, recoveryCodeHash(code));
  }

  /** MFA turned off: the seed (active and pending) and every recovery code are deleted. */
  clear(): void {
    this.sql.exec("DELETE FROM mfa_totp");
    this.sql.exec("DELETE FROM mfa_recovery_codes");
  }
}
