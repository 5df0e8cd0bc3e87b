// The account decider: decide(command, state) → events | refusal, evolve(state, event) → state.
// Pure: no clock, no randomness, no I/O (Emmett's decider pattern).

import { Result } from "effect";
import type { AccountCommand } from "./commands.ts";
import type { AccountEvent } from "./events.ts";
import {
  AccountAlreadyRegistered,
  AccountNotFound,
  ConsentMissing,
  SessionAlreadyStarted,
  SessionNotLive,
  StaleRefresh,
  type AccountError,
} from "./errors.ts";
import { permissionsOf, type Role } from "./roles.ts";

export interface SessionState {
  readonly sessionId: string;
  readonly clientId: string;
  readonly scopes: ReadonlyArray<string>;
  readonly resource: string;
  readonly expiresAt: number;
  readonly generation: number;
  readonly revoked: boolean;
}

export interface AccountState {
  readonly accountId: string | null;
  readonly email: string | null;
  readonly roles: ReadonlyArray<Role>;
  /** clientId → scopes the user consented to for that client. */
  readonly consents: ReadonlyMap<string, ReadonlyArray<string>>;
  readonly sessions: ReadonlyMap<string, SessionState>;
  readonly consecutiveFailedLogins: number;
}

export const initialState: AccountState = {
  accountId: null,
  email: null,
  roles: [],
  consents: new Map(),
  sessions: new Map(),
  consecutiveFailedLogins: 0,
};

export type Decision = Result.Result<ReadonlyArray<AccountEvent>, AccountError>;

const emit = (...events: AccountEvent[]): Decision => Result.succeed(events);
const nothing: Decision = Result.succeed([]);
const refuse = (error: AccountError): Decision => Result.fail(error);

const covers = (granted: ReadonlyArray<string> | undefined, wanted: ReadonlyArray<string>) =>
  granted !== undefined && wanted.every((s) => granted.includes(s));

/** Why a session cannot be used at `at`, or null when it is live. */
export const sessionProblem = (
  state: AccountState,
  sessionId: string,
  at: number,
): "unknown" | "revoked" | "expired" | null => {
  const session = state.sessions.get(sessionId);
  if (!session) return "unknown";
  if (session.revoked) return "revoked";
  if (session.expiresAt <= at) return "expired";
  return null;
};

export const decide = (command: AccountCommand, state: AccountState): Decision => {
  if (command._tag === "RegisterAccount") {
    if (state.accountId === null) {
      return emit(
        { _tag: "AccountRegistered", accountId: command.accountId, email: command.email },
        { _tag: "PasswordSet", scheme: "scrypt" },
        { _tag: "RoleGranted", role: "member", reason: "every account is a member" },
      );
    }
    const sameRegistration = state.accountId === command.accountId && state.email === command.email;
    return sameRegistration ? nothing : refuse(new AccountAlreadyRegistered({ email: command.email }));
  }
  if (state.accountId === null) return refuse(new AccountNotFound());

  switch (command._tag) {
    case "GrantRole":
      return state.roles.includes(command.role)
        ? nothing
        : emit({ _tag: "RoleGranted", role: command.role, reason: command.reason });

    case "RecordLogin":
      return command.passwordMatches
        ? emit({ _tag: "LoginSucceeded", clientId: command.clientId })
        : emit({
            _tag: "LoginFailed",
            reason: "invalid_password",
            failedAttempts: state.consecutiveFailedLogins + 1,
          });

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
      const problem = sessionProblem(state, command.sessionId, command.at);
      if (problem) return refuse(new SessionNotLive({ sessionId: command.sessionId, reason: problem }));
      const session = state.sessions.get(command.sessionId)!;
      const reason = !permissionsOf(state.roles).has(command.permission)
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

const withSession = (state: AccountState, sessionId: string, change: (s: SessionState) => SessionState) => {
  const session = state.sessions.get(sessionId);
  if (!session) return state;
  const sessions = new Map(state.sessions);
  sessions.set(sessionId, change(session));
  return { ...state, sessions };
};

export const evolve = (state: AccountState, event: AccountEvent): AccountState => {
  switch (event._tag) {
    case "AccountRegistered":
      return { ...state, accountId: event.accountId, email: event.email };
    case "RoleGranted":
      return state.roles.includes(event.role) ? state : { ...state, roles: [...state.roles, event.role] };
    case "LoginSucceeded":
      return { ...state, consecutiveFailedLogins: 0 };
    case "LoginFailed":
      return { ...state, consecutiveFailedLogins: event.failedAttempts };
    case "ConsentGranted": {
      const consents = new Map(state.consents);
      const union = new Set([...(state.consents.get(event.clientId) ?? []), ...event.scopes]);
      consents.set(event.clientId, [...union]);
      return { ...state, consents };
    }
    case "SessionStarted": {
      const sessions = new Map(state.sessions);
      sessions.set(event.sessionId, {
        sessionId: event.sessionId,
        clientId: event.clientId,
        scopes: event.scopes,
        resource: event.resource,
        expiresAt: event.expiresAt,
        generation: 0,
        revoked: false,
      });
      return { ...state, sessions };
    }
    case "TokenRefreshed":
      return withSession(state, event.sessionId, (s) => ({
        ...s,
        generation: event.generation,
        expiresAt: event.expiresAt,
      }));
    case "SessionRevoked":
      return withSession(state, event.sessionId, (s) => ({ ...s, revoked: true }));
    case "PasswordSet":
    case "ConsentDenied":
    case "ToolInvoked":
      return state;
  }
};

export const fold = (events: Iterable<AccountEvent>, from: AccountState = initialState): AccountState => {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
};
