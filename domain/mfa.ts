// The second-factor and password half of the account decider: TOTP enrollment, the second
// step of a sign-in, recovery codes, turning MFA off, and password change. Pure: the edge
// checks codes and passwords against the side tables (src/objects/account-mfa.ts) and says
// whether they matched; this decides what that means under the lockout policy.
//
// - A wrong second factor counts toward the same progressive lockout as a wrong password
//   (domain/lockout.ts), and while locked every factor is refused without being checked.
// - Turning MFA off or replacing the recovery codes needs a fresh second factor (NIST SP
//   800-63B §6.1.2.3: binding changes need the existing authenticator), not just a password.
// - A password change revokes every other live session (OWASP Session Management: "renew or
//   invalidate sessions after a password change"): whoever knew the old password is out.

import { Result } from "effect";
import type { AccountState, Decision } from "./account.ts";
import type { MfaCommand, SecondFactorProof } from "./commands.ts";
import { authenticationProblem } from "./authentication.ts";
import { CredentialsChanged, MfaAlreadyEnabled, MfaNotEnabled } from "./errors.ts";
import type { AccountEvent } from "./events.ts";
import { expiredLock, failedAttempt, isLocked, lockedOut } from "./lockout.ts";

/** Recovery codes per set: shown once, each single-use (GitHub and Google give 10 too). */
export const RECOVERY_CODE_COUNT = 10;

const emit = (...events: AccountEvent[]): Decision => Result.succeed(events);

export const decideMfa = (command: MfaCommand, state: AccountState): Decision => {
  switch (command._tag) {
    case "EnableMfa": {
      if (state.mfaEnabled) return Result.fail(new MfaAlreadyEnabled());
      // NIST SP 800-63B §4.2.1: from now on the account is AAL2. A session signed in with the
      // password alone would otherwise keep AAL1 access for as long as it is refreshed, so
      // whoever phished the password before enrollment would keep it: those sessions end here.
      const passwordOnly = [...state.sessions.values()].filter((s) => !s.revoked && s.expiresAt > command.at && !s.amr.includes("otp"));
      return emit(
        { _tag: "MfaEnabled", method: "totp", recoveryCodes: command.recoveryCodes },
        ...passwordOnly.map((s): AccountEvent => ({ _tag: "SessionRevoked", sessionId: s.sessionId, reason: "mfa_enabled" })),
      );
    }

    case "VerifySecondFactor":
      // The password half of this sign-in was verified at `passwordVerifiedAt`; a password
      // changed at or after then (domain/authentication.ts) ends the sign-in unchecked, so a
      // challenge opened with the old password cannot be finished with a second factor.
      if (!state.mfaEnabled) return Result.fail(new MfaNotEnabled());
      if (
        command.passwordVerifiedAt !== undefined &&
        authenticationProblem(state, { authAt: command.passwordVerifiedAt, amr: ["pwd", "otp"] }, command.at) === "credentials_changed"
      ) {
        return Result.fail(new CredentialsChanged());
      }
      return withSecondFactor(state, command.proof, command.at, (spent) => [
        { _tag: "MfaVerified", method: command.proof.method, clientId: command.clientId },
        ...spent,
        { _tag: "LoginSucceeded", clientId: command.clientId },
      ]);

    case "DisableMfa":
      return withSecondFactor(state, command.proof, command.at, (spent) => [
        ...spent,
        { _tag: "MfaDisabled", verifiedWith: command.proof.method },
      ]);

    case "RegenerateRecoveryCodes":
      return withSecondFactor(state, command.proof, command.at, (spent) => [
        ...spent,
        { _tag: "RecoveryCodesRegenerated", count: command.count },
      ]);

    case "ChangePassword": {
      if (isLocked(state, command.at)) return emit(lockedOut(state));
      if (!command.currentPasswordMatches) {
        return emit(...expiredLock(state), ...failedAttempt(state, command.at, "invalid_password"));
      }
      const others = [...state.sessions.values()].filter(
        (s) => s.sessionId !== command.keepSessionId && !s.revoked && s.expiresAt > command.at,
      );
      return emit(
        ...expiredLock(state),
        { _tag: "PasswordChanged", scheme: "scrypt", at: command.at },
        ...others.map((s): AccountEvent => ({ _tag: "SessionRevoked", sessionId: s.sessionId, reason: "password_changed" })),
      );
    }
  }
};

/**
 * Every second-factor check: refused on an account without MFA, refused unchecked while
 * locked, counted as a failure when wrong, and `onSuccess` (given the RecoveryCodeUsed event
 * when a recovery code was spent) when right.
 */
function withSecondFactor(
  state: AccountState,
  proof: SecondFactorProof,
  at: number,
  onSuccess: (spent: AccountEvent[]) => AccountEvent[],
): Decision {
  if (!state.mfaEnabled) return Result.fail(new MfaNotEnabled());
  if (isLocked(state, at)) return emit(lockedOut(state));
  // A recovery code cannot be right when none is left, whatever the edge says.
  const verified = proof.verified && (proof.method === "totp" || state.recoveryCodesRemaining > 0);
  if (!verified) return emit(...expiredLock(state), ...failedAttempt(state, at, "invalid_second_factor"));
  const spent: AccountEvent[] =
    proof.method === "recovery_code" ? [{ _tag: "RecoveryCodeUsed", remaining: state.recoveryCodesRemaining - 1 }] : [];
  return emit(...expiredLock(state), ...onSuccess(spent));
}
