// The account decider: decide(command, state) → events | refusal (evolve is in account-state.ts).
// Pure: no clock, no randomness, no I/O (Emmett's decider pattern).

import { Result } from "effect";
import type { AccountCommand } from "./commands.ts";
import type { AccountEvent } from "./events.ts";
import {
  AccountAlreadyRegistered,
  AccountClosed,
  AccountNotFound,
  ConsentMissing,
  SessionAlreadyStarted,
  SessionNotLive,
  StaleRefresh,
  type AccountError,
} from "./errors.ts";
import { lockDurationMs } from "./lockout.ts";
import { permissionsOf, type Role } from "./roles.ts";
import { activeRoles, sessionProblem, type AccountState } from "./account-state.ts";

// The state half of the decider (types, evolve, fold, state queries) lives in account-state.ts.
export * from "./account-state.ts";

export type Decision = Result.Result<ReadonlyArray<AccountEvent>, AccountError>;

const emit = (...events: AccountEvent[]): Decision => Result.succeed(events);
const nothing: Decision = Result.succeed([]);
const refuse = (error: AccountError): Decision => Result.fail(error);

const covers = (granted: ReadonlyArray<string> | undefined, wanted: ReadonlyArray<string>) =>
  granted !== undefined && wanted.every((s) => granted.includes(s));
const dueExpiries = (state: AccountState, at: number): AccountEvent[] => [
  ...(state.lockedUntil !== null && state.lockedUntil <= at ? [{ _tag: "AccountUnlocked", reason: "expired" } as const] : []),
  ...[...state.sessions.values()]
    .filter((s) => !s.revoked && !s.expired && s.expiresAt <= at)
    .map((s): AccountEvent => ({ _tag: "SessionExpired", sessionId: s.sessionId })),
  ...[...state.roleExpiries.entries()]
    .filter(([, expiresAt]) => expiresAt <= at)
    .map(([role]): AccountEvent => ({ _tag: "RoleExpired", role })),
];

/** A grant adds nothing when the role is already held at least as long. */
const grantIsCovered = (state: AccountState, role: Role, expiresAt: number | null) => {
  if (!state.roles.includes(role)) return false;
  const current = state.roleExpiries.get(role);
  if (current === undefined) return true;
  return expiresAt !== null && current >= expiresAt;
};

export const decide = (command: AccountCommand, state: AccountState): Decision => {
  if (command._tag === "RegisterAccount" && state.closed) return refuse(new AccountClosed());
  if (command._tag === "RegisterAccount") {
    if (state.accountId === null) {
      return emit(
        { _tag: "AccountRegistered", accountId: command.accountId, email: command.email },
        { _tag: "PasswordSet", scheme: "scrypt" },
        { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null },
      );
    }
    const sameRegistration = state.accountId === command.accountId && state.email === command.email;
    return sameRegistration ? nothing : refuse(new AccountAlreadyRegistered({ email: command.email }));
  }
  if (state.accountId === null) return refuse(new AccountNotFound());
  // A closed account decides nothing more; its pending expiries are cancelled, not refused.
  if (state.closed) {
    return command._tag === "ExpireDue" || command._tag === "CloseAccount" ? nothing : refuse(new AccountClosed());
  }

  switch (command._tag) {
    case "GrantRole":
      return grantIsCovered(state, command.role, command.expiresAt)
        ? nothing
        : emit({ _tag: "RoleGranted", role: command.role, reason: command.reason, expiresAt: command.expiresAt });

    case "ExpireDue":
      return emit(...dueExpiries(state, command.at));

    case "CloseAccount":
      return emit({ _tag: "AccountClosed", reason: command.reason });

    case "RecordLogin":
      return recordLogin(state, command);

    case "UnlockAccount":
      return state.lockedUntil === null ? nothing : emit({ _tag: "AccountUnlocked", reason: "operator" });

    case "GrantConsent":
      return covers(state.consents.get(command.clientId), command.scopes)
        ? nothing
        : emit({
            _tag: "ConsentGranted",
            clientId: command.clientId,
            clientName: command.clientName,
            redirectHost: command.redirectHost,
            scopes: [...command.scopes],
          });

    case "DenyConsent":
      return emit({ _tag: "ConsentDenied", clientId: command.clientId, scopes: [...command.scopes] });

    case "RevokeConsent": {
      if (!state.consents.has(command.clientId)) return nothing;
      const sessions = [...state.sessions.values()].filter((s) => s.clientId === command.clientId && !s.revoked && !s.expired);
      return emit(
        { _tag: "ConsentRevoked", clientId: command.clientId },
        ...sessions.map((s): AccountEvent => ({ _tag: "SessionRevoked", sessionId: s.sessionId, reason: "consent_revoked" })),
      );
    }

    case "StartSession": {
      const existing = state.sessions.get(command.sessionId);
      if (existing) {
        return existing.clientId === command.clientId
          ? nothing
          : refuse(new SessionAlreadyStarted({ sessionId: command.sessionId }));
      }
      if (command.expiresAt <= command.at) {
        return refuse(new SessionNotLive({ sessionId: command.sessionId, reason: "expired" }));
      }
      if (!covers(state.consents.get(command.clientId), command.scopes)) {
        return refuse(new ConsentMissing({ clientId: command.clientId }));
      }
      return emit({
        _tag: "SessionStarted",
        sessionId: command.sessionId,
        clientId: command.clientId,
        scopes: [...command.scopes],
        resource: command.resource,
        expiresAt: command.expiresAt,
      });
    }

    case "RefreshSession": {
      const problem = sessionProblem(state, command.sessionId, command.at);
      if (problem) return refuse(new SessionNotLive({ sessionId: command.sessionId, reason: problem }));
      const session = state.sessions.get(command.sessionId)!;
      if (session.generation !== command.generation) {
        return refuse(
          new StaleRefresh({
            sessionId: command.sessionId,
            expected: session.generation,
            presented: command.generation,
          }),
        );
      }
      return emit({
        _tag: "TokenRefreshed",
        sessionId: command.sessionId,
        generation: session.generation + 1,
        expiresAt: command.expiresAt,
      });
    }

    case "RevokeSession": {
      const session = state.sessions.get(command.sessionId);
      if (!session) return refuse(new SessionNotLive({ sessionId: command.sessionId, reason: "unknown" }));
      return session.revoked
        ? nothing
        : emit({ _tag: "SessionRevoked", sessionId: command.sessionId, reason: command.reason });
    }

    case "InvokeTool": {
      // Every call is recorded, even one that raced a revocation: a dead session is a denial.
      const problem = sessionProblem(state, command.sessionId, command.at);
      const session = state.sessions.get(command.sessionId);
      const reason = problem || !session
        ? `session is ${problem ?? "unknown"}`
        : !permissionsOf(activeRoles(state, command.at)).has(command.permission)
          ? `missing permission ${command.permission}`
          : !session.scopes.includes(command.requiredScope)
            ? `missing scope ${command.requiredScope}`
            : null;
      return emit({
        _tag: "ToolInvoked",
        tool: command.tool,
        sessionId: command.sessionId,
        permission: command.permission,
        outcome: reason === null ? "allowed" : "denied",
        reason,
      });
    }
  }
};

/** Sign-in outcome under the lockout policy (domain/lockout.ts). */
const recordLogin = (state: AccountState, command: Extract<AccountCommand, { _tag: "RecordLogin" }>): Decision => {
  const locked = state.lockedUntil !== null && command.at < state.lockedUntil;
  if (locked) {
    // Refused without regard to the password, so a lockout cannot be used to test guesses.
    return emit({ _tag: "LoginFailed", reason: "account_locked", failedAttempts: state.consecutiveFailedLogins });
  }
  const expired: AccountEvent[] = state.lockedUntil !== null ? [{ _tag: "AccountUnlocked", reason: "expired" }] : [];
  if (command.passwordMatches) return emit(...expired, { _tag: "LoginSucceeded", clientId: command.clientId });
  const failedAttempts = state.consecutiveFailedLogins + 1;
  const lockFor = lockDurationMs(failedAttempts);
  return emit(
    ...expired,
    { _tag: "LoginFailed", reason: "invalid_password", failedAttempts },
    ...(lockFor === null ? [] : [{ _tag: "AccountLocked", until: command.at + lockFor, failedAttempts } as const]),
  );
};
