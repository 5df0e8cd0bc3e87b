// Progressive lockout policy (brute-force protection per account, RFC 9700 §4.14 spirit;
// OWASP Authentication Cheat Sheet "Account Lockout"). Every 5th consecutive failure locks
// the account, for twice as long as the previous lock: 1 min, 2, 4 … capped at 1 hour.
// A success resets the count. Locking bounds online guessing to a few dozen tries an hour
// per account; the per-IP throttle keeps one client from locking out many accounts quickly.

export const FAILURES_PER_LOCK = 5;
const FIRST_LOCK_MS = 60 * 1000;
const MAX_LOCK_MS = 60 * 60 * 1000;

/** How long to lock after the `failedAttempts`-th consecutive failure, or null for no lock. */
export const lockDurationMs = (failedAttempts: number): number | null => {
  if (failedAttempts < FAILURES_PER_LOCK || failedAttempts % FAILURES_PER_LOCK !== 0) return null;
  const lockNumber = failedAttempts / FAILURES_PER_LOCK;
  return Math.min(FIRST_LOCK_MS * 2 ** (lockNumber - 1), MAX_LOCK_MS);
};
