// Progressive lockout policy (brute-force protection per account, RFC 9700 §4.14 spirit;
// OWASP Authentication Cheat Sheet "Account Lockout"). Every 5th consecutive failure locks
// the account, for twice as long as the previous lock: 1 min, 2, 4 … capped at 1 hour.
// A success resets the count. Locking bounds online guessing to a few dozen tries an hour
// per account; the per-IP throttle keeps one client from locking out many accounts quickly.
//
// Both factors share one count (NIST SP 800-63B §5.2.2: rate limiting applies to every
// authenticator): a wrong TOTP or recovery code counts like a wrong password, and a right
// password alone does not reset the count when a second factor is still due, so knowing the
// password never buys more guesses at the 6-digit code.

import type { AccountState } from "./account-state.ts";
import type { AccountEvent } from "./events.ts";

export const FAILURES_PER_LOCK = 5;
const FIRST_LOCK_MS = 60 * 1000;
const MAX_LOCK_MS = 60 * 60 * 1000;

/** How long to lock after the `failedAttempts`-th consecutive failure, or null for no lock. */
export const lockDurationMs = (failedAttempts: number): number | null => {
  if (failedAttempts < FAILURES_PER_LOCK || failedAttempts % FAILURES_PER_LOCK !== 0) return null;
  const lockNumber = failedAttempts / FAILURES_PER_LOCK;
  return Math.min(FIRST_LOCK_MS * 2 ** (lockNumber - 1), MAX_LOCK_MS);
};

/** Whether every authentication attempt (either factor) is refused at `at`. */
export const isLocked = (state: AccountState, at: number): boolean => state.lockedUntil !== null && at < state.lockedUntil;

/** Refused without regard to what was presented, so a lockout cannot test guesses; not counted. */
export const lockedOut = (state: AccountState): AccountEvent => ({
  _tag: "LoginFailed", reason: "account_locked", failedAttempts: state.consecutiveFailedLogins,
});

/** A lock that has run out (and is not yet recorded) is recorded before the attempt that notices it. */
export const expiredLock = (state: AccountState): AccountEvent[] =>
  state.lockedUntil !== null ? [{ _tag: "AccountUnlocked", reason: "expired" }] : [];

/** One more consecutive failure of either factor, and the lock it earns (every 5th). */
export const failedAttempt = (
  state: AccountState,
  at: number,
  reason: "invalid_password" | "invalid_second_factor",
): AccountEvent[] => {
  const failedAttempts = state.consecutiveFailedLogins + 1;
  const lockFor = lockDurationMs(failedAttempts);
  return [
    { _tag: "LoginFailed", reason, failedAttempts },
    ...(lockFor === null ? [] : [{ _tag: "AccountLocked", until: at + lockFor, failedAttempts } as const]),
  ];
};
