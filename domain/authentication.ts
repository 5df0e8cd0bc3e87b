// Whether an earlier authentication still stands for the account as it is now. Every artefact
// that carries "this person signed in at `authAt` with `amr`" (a browser session, a consent
// page, an MFA challenge, an unredeemed authorization code) is re-checked against this before
// it is turned into anything else, so none outlives the account state it was issued under.
// Pure: the account object and the pages hand in state (or the facts of it) and the time.
//
// - closed: nobody acts for a closed account (nor for a service account: no person behind it).
// - locked: someone is guessing the password; every authentication is refused until the lock
//   ends (domain/lockout.ts), including ones started before it (OWASP Authentication Cheat
//   Sheet, "Account Lockout").
// - credentials_changed: a password change is meant to shut out whoever knew the old password
//   (OWASP Session Management Cheat Sheet, "Renew the Session ID After Any Privilege Level
//   Change"; NIST SP 800-63B §7.1). An authentication at the very millisecond of the change
//   cannot be ordered after it, so `passwordChangedAt >= authAt` refuses: ties go to safety.
// - second_factor_required: once MFA is on, a password-only authentication is not enough
//   (NIST SP 800-63B §4.2.1, AAL2), or turning MFA on would leave the password a way in.

import type { AccountState } from "./account-state.ts";
import type { AuthMethod } from "./events.ts";
import { isLocked } from "./lockout.ts";

export type AuthenticationProblem = "closed" | "locked" | "credentials_changed" | "second_factor_required";

/** When and how the person authenticated (RFC 8176 `amr`). */
export interface Authentication {
  readonly authAt: number;
  readonly amr: ReadonlyArray<AuthMethod>;
}

/** The account facts the rule needs, for callers that hold a view rather than the state. */
export interface AuthenticationFacts {
  readonly closed: boolean;
  readonly locked: boolean;
  readonly passwordChangedAt: number | null;
  readonly mfaEnabled: boolean;
}

/** The rule itself, over facts: the first reason the authentication no longer stands, or null. */
export const authenticationProblemOf = (facts: AuthenticationFacts, auth: Authentication): AuthenticationProblem | null => {
  if (facts.closed) return "closed";
  if (facts.locked) return "locked";
  if (facts.passwordChangedAt !== null && facts.passwordChangedAt >= auth.authAt) return "credentials_changed";
  if (facts.mfaEnabled && !auth.amr.includes("otp")) return "second_factor_required";
  return null;
};

/** The facts of an account's state at `at`. */
export const authenticationFactsOf = (state: AccountState, at: number): AuthenticationFacts => ({
  closed: state.closed || state.accountId === null || state.service !== null,
  locked: isLocked(state, at),
  passwordChangedAt: state.passwordChangedAt,
  mfaEnabled: state.mfaEnabled,
});

/** Why an authentication of `at` or before no longer stands for this account, or null when it does. */
export const authenticationProblem = (state: AccountState, auth: Authentication, at: number): AuthenticationProblem | null =>
  authenticationProblemOf(authenticationFactsOf(state, at), auth);
