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
  NotForServiceAccount,
  SessionAlreadyStarted,
  SessionNotLive,
  RoleAboveGrantor,
  StaleRefresh,
  type AccountError,
} from "./errors.ts";
import { expiredLock, failedAttempt, isLocked, lockedOut } from "./lockout.ts";
import { decideMfa } from "./mfa.ts";
import { mayAssign, mayAssignToService, PERSON_ONLY, permissionsOf, SERVICE_ROLE_CEILING, type Permission, type Role } from "./roles.ts";
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
  // Revoked sessions too: a revoked session is kept (so its tokens are refused as "revoked")
  // only until its expiry; recording the expiry removes it from state (account-state.ts).
  ...[...state.sessions.values()]
    .filter((s) => s.expiresAt <= at)
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
  if (command._tag === "RegisterServiceAccount") return registerServiceAccount(state, command);
  if (state.accountId === null) return refuse(new AccountNotFound());
  // A closed account decides nothing more; its pending expiries are cancelled, not refused.
  if (state.closed) {
    return command._tag === "ExpireDue" || command._tag === "CloseAccount" ? nothing : refuse(new AccountClosed());
  }
  // A service account has no person behind it: nobody signs in as it or consents for it.
  if (state.service !== null && (command._tag === "RecordLogin" || command._tag === "GrantConsent")) {
    return refuse(new AccountNotFound());
  }
  // Managing clients is a person's act (domain/roles.ts PERSON_ONLY): a machine never records it.
  if (state.service !== null && (command._tag === "RecordClientRegistered" || command._tag === "RecordClientDisabled")) {
    return refuse(new NotForServiceAccount({ what: "register or disable clients" }));
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
      const sessions = [...state.sessions.values()].filter((s) => s.clientId === command.clientId && !s.revoked);
      return emit(
        { _tag: "ConsentRevoked", clientId: command.clientId },
        ...sessions.map((s): AccountEvent => ({ _tag: "SessionRevoked", sessionId: s.sessionId, reason: "consent_revoked" })),
      );
    }

    case "StartSession": {
      // Ids of sessions whose expiry was recorded are forgotten (keeping them would keep state
      // growing), so reuse of such an id is not refused here. None comes back: the server mints
      // every session id with crypto.randomUUID() (122 random bits), never takes one from a client.
      const existing = state.sessions.get(command.sessionId);
      if (existing) {
        return existing.clientId === command.clientId
          ? nothing
          : refuse(new SessionAlreadyStarted({ sessionId: command.sessionId }));
      }
      if (command.expiresAt <= command.at) {
        return refuse(new SessionNotLive({ sessionId: command.sessionId, reason: "expired" }));
      }
      // A service account's own client needs no consent: the operator who registered it chose its scopes.
      const allowed = state.service?.clientId === command.clientId ? state.service.scopes : state.consents.get(command.clientId);
      if (!covers(allowed, command.scopes)) {
        return refuse(new ConsentMissing({ clientId: command.clientId }));
      }
      return emit({
        _tag: "SessionStarted",
        sessionId: command.sessionId,
        clientId: command.clientId,
        scopes: [...command.scopes],
        resource: command.resource,
        expiresAt: command.expiresAt,
        amr: [...command.amr],
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
        : !permissionsOf(activeRoles(state, command.at), state.service === null ? "person" : "service").has(command.permission)
          ? missingPermission(state, command.permission)
          : !session.scopes.includes(command.requiredScope) || (command.tokenScopes !== undefined && !command.tokenScopes.includes(command.requiredScope))
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

    case "RecordClientRegistered":
      return emit({
        _tag: "ClientRegistered", clientId: command.clientId, kind: command.kind, clientName: command.clientName,
        grantTypes: [...command.grantTypes], scopes: [...command.scopes], serviceAccountId: command.serviceAccountId,
      });

    case "RecordClientDisabled":
      return emit({ _tag: "ClientDisabled", clientId: command.clientId, kind: command.kind, serviceAccountId: command.serviceAccountId });

    case "EnableMfa":
    case "VerifySecondFactor":
    case "DisableMfa":
    case "RegenerateRecoveryCodes":
    case "ChangePassword":
      return decideMfa(command, state);
  }
};

/** Why a tool call lacks its permission; a service account is told a person-only one is never its. */
const missingPermission = (state: AccountState, permission: Permission) =>
  state.service !== null && PERSON_ONLY.has(permission)
    ? `${permission} is a person's act; a service account never holds it`
    : `missing permission ${permission}`;

/** Scopes whose tools need a PERSON_ONLY permission: useless to a service account, so refused outright. */
const PERSON_ONLY_SCOPES: ReadonlyArray<string> = ["clients:manage"];

/**
 * A service account: registered once, by an operator, with the member role and the roles asked
 * for (none above the operator's own highest, none above SERVICE_ROLE_CEILING), and no scope
 * that only a person may use. A retry of the same registration is quiet.
 */
const registerServiceAccount = (state: AccountState, command: Extract<AccountCommand, { _tag: "RegisterServiceAccount" }>): Decision => {
  if (state.closed) return refuse(new AccountClosed());
  if (state.accountId !== null) {
    const same = state.accountId === command.accountId && state.service?.clientId === command.clientId;
    return same ? nothing : refuse(new AccountAlreadyRegistered({ email: command.name }));
  }
  const above = command.roles.find((role) => !mayAssign(command.grantorRoles, role));
  if (above !== undefined) return refuse(new RoleAboveGrantor({ role: above }));
  const tooHigh = command.roles.find((role) => !mayAssignToService(command.grantorRoles, role));
  if (tooHigh !== undefined) return refuse(new NotForServiceAccount({ what: `hold role ${tooHigh} (service accounts stop at ${SERVICE_ROLE_CEILING})` }));
  const personScope = command.scopes.find((scope) => PERSON_ONLY_SCOPES.includes(scope));
  if (personScope !== undefined) return refuse(new NotForServiceAccount({ what: `hold scope ${personScope} (managing clients is a person's act)` }));
  const roles = [...new Set(command.roles)].filter((role) => role !== "member");
  return emit(
    { _tag: "ServiceAccountRegistered", accountId: command.accountId, name: command.name, clientId: command.clientId, scopes: [...command.scopes] },
    { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null },
    ...roles.map((role): AccountEvent => ({ _tag: "RoleGranted", role, reason: `service account ${command.name}`, expiresAt: null })),
  );
};

/** Sign-in outcome under the lockout policy (domain/lockout.ts). */
const recordLogin = (state: AccountState, command: Extract<AccountCommand, { _tag: "RecordLogin" }>): Decision => {
  // Refused without regard to the password, so a lockout cannot be used to test guesses.
  if (isLocked(state, command.at)) return emit(lockedOut(state));
  const expired = expiredLock(state);
  if (!command.passwordMatches) return emit(...expired, ...failedAttempt(state, command.at, "invalid_password"));
  // With a second factor the password alone is not a sign-in: the failure count stands until
  // the code is right, so knowing the password buys no extra guesses (domain/mfa.ts).
  if (state.mfaEnabled) return emit(...expired, { _tag: "PasswordVerified", clientId: command.clientId });
  return emit(...expired, { _tag: "LoginSucceeded", clientId: command.clientId });
};
