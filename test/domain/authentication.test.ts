// Specs for domain/authentication.ts: whether an earlier sign-in ("authenticated at authAt with
// amr") still stands for the account as its events left it, and the same rule inside the
// decider for the second step of a sign-in (VerifySecondFactor with passwordVerifiedAt).

import { describe, expect, it } from "vitest";
import { fold } from "../../domain/account.ts";
import { authenticationProblem } from "../../domain/authentication.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { CLIENT, NOW, registered } from "./fixtures.ts";
import { given } from "./given-when-then.ts";

const CHANGED_AT = 5_000;
const mfaOn: AccountEvent = { _tag: "MfaEnabled", method: "totp", recoveryCodes: 10 };
const passwordChanged: AccountEvent = { _tag: "PasswordChanged", scheme: "scrypt", at: CHANGED_AT };
const lockedUntil = (until: number): AccountEvent[] => [
  { _tag: "LoginFailed", reason: "invalid_password", failedAttempts: 5 },
  { _tag: "AccountLocked", until, failedAttempts: 5 },
];
const pwd = (authAt: number) => ({ authAt, amr: ["pwd"] as const });
const pwdOtp = (authAt: number) => ({ authAt, amr: ["pwd", "otp"] as const });
const problem = (events: ReadonlyArray<AccountEvent>, auth: { authAt: number; amr: ReadonlyArray<"pwd" | "otp"> }, at = NOW) =>
  authenticationProblem(fold(events), auth, at);

describe("NIST SP 800-63B §7.1 / OWASP session management: a sign-in stands only for the account it was made on", () => {
  it("a password sign-in on an account without MFA, never changed, never locked, stands", () => {
    expect(problem(registered, pwd(NOW))).toBeNull();
  });

  it("a password change after the sign-in ends it (credentials_changed)", () => {
    expect(problem([...registered, passwordChanged], pwd(CHANGED_AT - 1), CHANGED_AT + 10)).toBe("credentials_changed");
  });

  it("a sign-in in the very millisecond of the change cannot be ordered after it, so it is refused too", () => {
    expect(problem([...registered, passwordChanged], pwd(CHANGED_AT), CHANGED_AT + 10)).toBe("credentials_changed");
  });

  it("a sign-in after the change (with the new password) stands", () => {
    expect(problem([...registered, passwordChanged], pwd(CHANGED_AT + 1), CHANGED_AT + 10)).toBeNull();
  });

  it("a lockout refuses every earlier sign-in while it runs, and no longer once it has run out", () => {
    const events = [...registered, ...lockedUntil(NOW + 60_000)];
    expect(problem(events, pwd(NOW - 10), NOW)).toBe("locked");
    expect(problem(events, pwd(NOW - 10), NOW + 60_000)).toBeNull();
  });

  it("an operator unlock ends the refusal at once", () => {
    const events = [...registered, ...lockedUntil(NOW + 60_000), { _tag: "AccountUnlocked", reason: "operator" } as const];
    expect(problem(events, pwd(NOW - 10), NOW)).toBeNull();
  });
});

describe("NIST SP 800-63B §4.2.1 (AAL2): with MFA on, a password alone is not a sign-in", () => {
  it("a password-only sign-in on an account that turned MFA on is refused (second_factor_required)", () => {
    expect(problem([...registered, mfaOn], pwd(NOW))).toBe("second_factor_required");
  });

  it("a sign-in with amr [pwd, otp] stands on an MFA account", () => {
    expect(problem([...registered, mfaOn], pwdOtp(NOW))).toBeNull();
  });

  it("after MFA is turned off again, a password sign-in stands", () => {
    expect(problem([...registered, mfaOn, { _tag: "MfaDisabled", verifiedWith: "totp" }], pwd(NOW))).toBeNull();
  });
});

describe("closed and person-less accounts", () => {
  it("nothing stands for a closed account, whatever the sign-in", () => {
    expect(problem([...registered, { _tag: "AccountClosed", reason: "user_request" }], pwdOtp(NOW))).toBe("closed");
  });

  it("nothing stands for an unregistered account or a service account (no person signs in as it)", () => {
    expect(problem([], pwd(NOW))).toBe("closed");
    const service: AccountEvent = { _tag: "ServiceAccountRegistered", accountId: "svc", name: "bot", clientId: CLIENT, scopes: ["account:read"] };
    expect(problem([service], pwd(NOW))).toBe("closed");
  });

  it("closing wins over every other reason (its own refusals apply downstream)", () => {
    const events = [...registered, mfaOn, passwordChanged, ...lockedUntil(NOW + 60_000), { _tag: "AccountClosed", reason: "user_request" } as const];
    expect(problem(events, pwd(NOW))).toBe("closed");
  });
});

describe("VerifySecondFactor: a challenge opened with the old password cannot be finished", () => {
  const verify = (passwordVerifiedAt?: number): AccountCommand => ({
    _tag: "VerifySecondFactor", proof: { method: "recovery_code", verified: true }, clientId: CLIENT, at: CHANGED_AT + 10,
    ...(passwordVerifiedAt === undefined ? {} : { passwordVerifiedAt }),
  });

  it("refuses CredentialsChanged, unchecked and unrecorded, when the password changed at or after the password step", () => {
    given(...registered, mfaOn, passwordChanged).when(verify(CHANGED_AT - 1)).thenFails("CredentialsChanged");
    given(...registered, mfaOn, passwordChanged).when(verify(CHANGED_AT)).thenFails("CredentialsChanged");
  });

  it("accepts a second factor whose password step came after the change", () => {
    given(...registered, mfaOn, passwordChanged).when(verify(CHANGED_AT + 1)).then(
      { _tag: "MfaVerified", method: "recovery_code", clientId: CLIENT },
      { _tag: "RecoveryCodeUsed", remaining: 9 },
      { _tag: "LoginSucceeded", clientId: CLIENT },
    );
  });
});
