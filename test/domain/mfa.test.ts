// Decider specs for domain/mfa.ts (and the MFA branch of RecordLogin): TOTP enrollment, the
// second step of a sign-in, recovery codes, turning MFA off, password change, and the
// assurance level (RFC 8176 amr) a session records. Per command: it emits, it refuses, and
// the lockout (domain/lockout.ts) covers the second factor exactly as it covers the password.

import { Result } from "effect";
import { describe, expect, it } from "vitest";
import { decide, evolve, fold, type AccountState } from "../../domain/account.ts";
import type { AccountCommand, SecondFactorProof } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { CLIENT, EXPIRES, NOW, SESSION, consented, refresh, registered, sessionStarted, startSession } from "./fixtures.ts";
import { given } from "./given-when-then.ts";

const mfaOn: AccountEvent = { _tag: "MfaEnabled", method: "totp", recoveryCodes: 10 };
const withMfa = [...registered, mfaOn];
const totp = (verified: boolean): SecondFactorProof => ({ method: "totp", verified });
const recovery = (verified: boolean): SecondFactorProof => ({ method: "recovery_code", verified });
const verify = (proof: SecondFactorProof, at = NOW): AccountCommand => ({ _tag: "VerifySecondFactor", proof, clientId: CLIENT, at });
const login = (passwordMatches: boolean, at = NOW): AccountCommand => ({ _tag: "RecordLogin", passwordMatches, clientId: CLIENT, at });
const failed = (failedAttempts: number, reason: "invalid_password" | "invalid_second_factor" = "invalid_second_factor"): AccountEvent => ({
  _tag: "LoginFailed", reason, failedAttempts,
});
const lockedAt = (failedAttempts: number, until = NOW + 60_000): AccountEvent => ({ _tag: "AccountLocked", until, failedAttempts });
const locked = [...withMfa, failed(1), failed(2), failed(3), failed(4), failed(5), lockedAt(5)];
const changePassword = (currentPasswordMatches: boolean, keepSessionId: string | null = null): AccountCommand => ({
  _tag: "ChangePassword", currentPasswordMatches, keepSessionId, at: NOW,
});

/** Decides and folds each command in turn; returns every event emitted. */
const runAll = (from: ReadonlyArray<AccountEvent>, commands: ReadonlyArray<AccountCommand>) => {
  let state: AccountState = fold(from);
  const out: AccountEvent[] = [];
  for (const command of commands) {
    const decision = decide(command, state);
    if (Result.isFailure(decision)) throw new Error(`${command._tag} refused: ${decision.failure._tag}`);
    for (const event of decision.success) state = evolve(state, event);
    out.push(...decision.success);
  }
  return { state, events: out };
};

describe("RFC 6238 enrollment: EnableMfa", () => {
  it("turns TOTP on with its count of recovery codes (the first code was checked at the edge)", () => {
    const outcome = given(...registered).when({ _tag: "EnableMfa", recoveryCodes: 10, at: NOW });
    outcome.then(mfaOn);
    expect(given(...withMfa).state).toMatchObject({ mfaEnabled: true, recoveryCodesRemaining: 10 });
  });
  it("refuses a second enrollment while MFA is on (turn it off first)", () =>
    void given(...withMfa).when({ _tag: "EnableMfa", recoveryCodes: 10, at: NOW }).thenFails("MfaAlreadyEnabled"));
  it("refuses on an account that was never registered", () =>
    void given().when({ _tag: "EnableMfa", recoveryCodes: 10, at: NOW }).thenFails("AccountNotFound"));
  it("NIST SP 800-63B §4.2.1: ends every live password-only session (no AAL1 session outlives the move to AAL2)", () =>
    void given(...registered, consented(), sessionStarted(), sessionStarted(undefined, "s-2"))
      .when({ _tag: "EnableMfa", recoveryCodes: 10, at: NOW })
      .then(mfaOn, { _tag: "SessionRevoked", sessionId: SESSION, reason: "mfa_enabled" }, { _tag: "SessionRevoked", sessionId: "s-2", reason: "mfa_enabled" }));
  it("keeps sessions that already carry a second factor, and leaves revoked or lapsed ones alone", () => {
    const withOtp: AccountEvent = { ...sessionStarted(undefined, "s-otp"), amr: ["pwd", "otp"] } as AccountEvent;
    const revoked: AccountEvent = { _tag: "SessionRevoked", sessionId: SESSION, reason: "user_request" };
    void given(...registered, consented(), sessionStarted(), revoked, withOtp)
      .when({ _tag: "EnableMfa", recoveryCodes: 10, at: NOW })
      .then(mfaOn);
    void given(...registered, consented(), sessionStarted())
      .when({ _tag: "EnableMfa", recoveryCodes: 10, at: EXPIRES })
      .then(mfaOn);
  });
});

describe("sign-in with a second factor: RecordLogin then VerifySecondFactor", () => {
  it("a right password on an MFA account is PasswordVerified, not a sign-in, and leaves the failure count", () => {
    const outcome = given(...withMfa, failed(2, "invalid_password")).when(login(true));
    outcome.then({ _tag: "PasswordVerified", clientId: CLIENT });
    expect(given(...withMfa, failed(2, "invalid_password"), { _tag: "PasswordVerified", clientId: CLIENT }).state.consecutiveFailedLogins).toBe(2);
  });
  it("without MFA a right password is still a sign-in", () =>
    given(...registered).when(login(true)).then({ _tag: "LoginSucceeded", clientId: CLIENT }));
  it("a right TOTP code completes the sign-in and resets the failure count", () => {
    given(...withMfa, failed(3)).when(verify(totp(true))).then(
      { _tag: "MfaVerified", method: "totp", clientId: CLIENT },
      { _tag: "LoginSucceeded", clientId: CLIENT },
    );
    expect(runAll([...withMfa, failed(3)], [verify(totp(true))]).state.consecutiveFailedLogins).toBe(0);
  });
  it("a right recovery code completes the sign-in and spends one code (count only, never the code)", () =>
    given(...withMfa).when(verify(recovery(true))).then(
      { _tag: "MfaVerified", method: "recovery_code", clientId: CLIENT },
      { _tag: "RecoveryCodeUsed", remaining: 9 },
      { _tag: "LoginSucceeded", clientId: CLIENT },
    ));
  it("a wrong code is a counted failure", () => given(...withMfa, failed(1)).when(verify(totp(false))).then(failed(2)));
  it("a recovery code cannot be right when none is left, whatever the edge says", () =>
    given(...withMfa, { _tag: "RecoveryCodesRegenerated", count: 0 }).when(verify(recovery(true))).then(failed(1)));
  it("refuses on an account without MFA", () => void given(...registered).when(verify(totp(true))).thenFails("MfaNotEnabled"));
});

describe("lockout covers the second factor (domain/lockout.ts, NIST SP 800-63B §5.2.2)", () => {
  it("the 5th consecutive failure locks, counting password and code failures together", () =>
    given(...withMfa, failed(1, "invalid_password"), failed(2, "invalid_password"), failed(3), failed(4))
      .when(verify(totp(false)))
      .then(failed(5), lockedAt(5)));
  it("knowing the password buys no extra guesses: password right + code wrong, five times, locks", () => {
    const attempts = Array.from({ length: 5 }, (_, i) => [login(true, NOW + i), verify(totp(false), NOW + i)]).flat();
    const { state, events } = runAll(withMfa, attempts);
    expect(events.filter((e) => e._tag === "LoginFailed").map((e) => e._tag === "LoginFailed" && e.failedAttempts)).toEqual([1, 2, 3, 4, 5]);
    expect(events.at(-1)).toEqual(lockedAt(5, NOW + 4 + 60_000));
    expect(state.lockedUntil).toBe(NOW + 4 + 60_000);
  });
  it("while locked a right code is refused unchecked, not counted, and spends nothing", () =>
    given(...locked).when(verify(recovery(true))).then({ _tag: "LoginFailed", reason: "account_locked", failedAttempts: 5 }));
  it("while locked a right password gets no PasswordVerified", () =>
    given(...locked).when(login(true)).then({ _tag: "LoginFailed", reason: "account_locked", failedAttempts: 5 }));
  it("once the lock ran out, the unlock is recorded before the sign-in it lets through", () =>
    given(...locked).when(verify(totp(true), NOW + 60_000)).then(
      { _tag: "AccountUnlocked", reason: "expired" },
      { _tag: "MfaVerified", method: "totp", clientId: CLIENT },
      { _tag: "LoginSucceeded", clientId: CLIENT },
    ));
});

describe("turning MFA off and new recovery codes need a fresh second factor", () => {
  const disable = (proof: SecondFactorProof): AccountCommand => ({ _tag: "DisableMfa", proof, at: NOW });
  const regenerate = (proof: SecondFactorProof): AccountCommand => ({ _tag: "RegenerateRecoveryCodes", proof, count: 10, at: NOW });
  it("a right TOTP code turns MFA off and forgets the recovery codes", () => {
    given(...withMfa).when(disable(totp(true))).then({ _tag: "MfaDisabled", verifiedWith: "totp" });
    expect(runAll(withMfa, [disable(totp(true))]).state).toMatchObject({ mfaEnabled: false, recoveryCodesRemaining: 0 });
  });
  it("a recovery code can turn it off too (the phone is lost), and is spent", () =>
    given(...withMfa).when(disable(recovery(true))).then({ _tag: "RecoveryCodeUsed", remaining: 9 }, { _tag: "MfaDisabled", verifiedWith: "recovery_code" }));
  it("a wrong code turns nothing off and counts toward the lockout", () => given(...withMfa).when(disable(totp(false))).then(failed(1)));
  it("refuses when MFA is off", () => void given(...registered).when(disable(totp(true))).thenFails("MfaNotEnabled"));
  it("new recovery codes replace the count, whatever was left", () => {
    given(...withMfa, { _tag: "RecoveryCodeUsed", remaining: 9 }).when(regenerate(totp(true))).then({ _tag: "RecoveryCodesRegenerated", count: 10 });
    expect(runAll([...withMfa, { _tag: "RecoveryCodeUsed", remaining: 3 }], [regenerate(recovery(true))]).state.recoveryCodesRemaining).toBe(10);
  });
  it("a wrong code gets no new codes and counts toward the lockout", () => given(...withMfa).when(regenerate(totp(false))).then(failed(1)));
  it("refuses new codes while locked, unchecked", () =>
    given(...locked).when(regenerate(totp(true))).then({ _tag: "LoginFailed", reason: "account_locked", failedAttempts: 5 }));
});

describe("password change revokes the account's other sessions", () => {
  const two = [...registered, consented(), sessionStarted(), sessionStarted(undefined, "s-2")];
  const revoked = (sessionId: string): AccountEvent => ({ _tag: "SessionRevoked", sessionId, reason: "password_changed" });
  const changed: AccountEvent = { _tag: "PasswordChanged", scheme: "scrypt", at: NOW };
  it("records PasswordChanged and revokes every live session", () => {
    given(...two).when(changePassword(true)).then(changed, revoked(SESSION), revoked("s-2"));
    expect(given(...two, changed).state.passwordChangedAt).toBe(NOW);
  });
  it("keeps the one session it is asked to keep (the caller's own)", () =>
    given(...two).when(changePassword(true, "s-2")).then(changed, revoked(SESSION)));
  it("skips sessions already revoked or expired", () =>
    given(...two, { _tag: "SessionRevoked", sessionId: SESSION, reason: "user_request" }, { _tag: "SessionExpired", sessionId: "s-2" })
      .when(changePassword(true)).then(changed));
  it("a wrong current password changes nothing and counts toward the lockout", () =>
    given(...two, failed(4, "invalid_password")).when(changePassword(false)).then(failed(5, "invalid_password"), lockedAt(5)));
  it("refuses while locked, even with the right current password", () =>
    given(...locked).when(changePassword(true)).then({ _tag: "LoginFailed", reason: "account_locked", failedAttempts: 5 }));
});

describe("RFC 8176: the session records how the person signed in", () => {
  const withConsent = [...registered, consented()];
  it("SessionStarted carries the amr of the sign-in behind the code", () => {
    const command = { ...startSession(), amr: ["pwd", "otp"] } as AccountCommand;
    given(...withConsent).when(command).then({ ...sessionStarted(), amr: ["pwd", "otp"] } as AccountEvent);
  });
  it("a refresh keeps the session's amr", () => {
    const started = { ...sessionStarted(), amr: ["pwd", "otp"] } as AccountEvent;
    const { state } = runAll([...withConsent, started], [refresh(0)]);
    expect(state.sessions.get(SESSION)).toMatchObject({ amr: ["pwd", "otp"], generation: 1, expiresAt: NOW + 1_000 });
    expect(EXPIRES).toBeGreaterThan(NOW);
  });
});
