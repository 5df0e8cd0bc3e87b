// Account state and its evolution: the folded view of an account's events, and the
// questions asked of it (is a session live, which roles are in force, what falls due next).
// Pure: no clock, no randomness, no I/O. decide() lives in account.ts.

import type { AccountEvent, AuthMethod } from "./events.ts";
import type { Role } from "./roles.ts";

export interface SessionState {
  readonly sessionId: string;
  readonly clientId: string;
  readonly scopes: ReadonlyArray<string>;
  readonly resource: string;
  readonly expiresAt: number;
  readonly generation: number;
  readonly revoked: boolean;
  /** How the person signed in (RFC 8176): ["pwd"] or ["pwd", "otp"]; kept across refreshes. */
  readonly amr: ReadonlyArray<AuthMethod>;
}

/** What makes an account a service account: the one client acting as it and the scopes it may hold. */
export interface ServiceIdentity {
  readonly name: string;
  readonly clientId: string;
  readonly scopes: ReadonlyArray<string>;
}

export interface AccountState {
  readonly accountId: string | null;
  readonly email: string | null;
  readonly roles: ReadonlyArray<Role>;
  /** Expiry of each time-bound role; permanent roles are absent. */
  readonly roleExpiries: ReadonlyMap<Role, number>;
  readonly closed: boolean;
  /** clientId → scopes the user consented to for that client. */
  readonly consents: ReadonlyMap<string, ReadonlyArray<string>>;
  /**
   * Sessions whose end has not been recorded yet: live ones, and revoked or lapsed ones until
   * the alarm records SessionExpired for them, which removes them. A service account starts a
   * session per access token, so keeping ended ones would grow state (and every snapshot and
   * wake-up fold) without bound; this way it holds about one session lifetime's worth.
   */
  readonly sessions: ReadonlyMap<string, SessionState>;
  readonly consecutiveFailedLogins: number;
  /** Sign-in is refused until this time (a recorded lockout), or null. */
  readonly lockedUntil: number | null;
  /** TOTP is on: a sign-in needs the second factor after the password (domain/mfa.ts). */
  readonly mfaEnabled: boolean;
  /** Unused recovery codes of the current set (the codes themselves live in a side table). */
  readonly recoveryCodesRemaining: number;
  /** When the password was last changed (a browser session from before then no longer holds). */
  readonly passwordChangedAt: number | null;
  /** Set for a service account (client_credentials); null for a person. */
  readonly service: ServiceIdentity | null;
}

export const initialState: AccountState = {
  accountId: null,
  email: null,
  roles: [],
  roleExpiries: new Map(),
  closed: false,
  consents: new Map(),
  sessions: new Map(),
  consecutiveFailedLogins: 0,
  lockedUntil: null,
  mfaEnabled: false,
  recoveryCodesRemaining: 0,
  passwordChangedAt: null,
  service: null,
};

/** Why a session cannot be used at `at`, or null when it is live. */
export const sessionProblem = (
  state: AccountState,
  sessionId: string,
  at: number,
): "unknown" | "revoked" | "expired" | null => {
  const session = state.sessions.get(sessionId);
  // Also a session whose expiry was recorded: it left state (evolve, SessionExpired).
  if (!session) return "unknown";
  if (session.revoked || state.closed) return "revoked";
  if (session.expiresAt <= at) return "expired";
  return null;
};

/** Roles in force at `at`: a time-bound role stops counting at its expiry, alarm or not. */
export const activeRoles = (state: AccountState, at: number): Role[] =>
  state.roles.filter((role) => (state.roleExpiries.get(role) ?? Infinity) > at);

/** The earliest time some expiry falls due, for the alarm; null when nothing is pending. */
export const nextDueAt = (state: AccountState): number | null => {
  if (state.closed || state.accountId === null) return null;
  const times = [...state.roleExpiries.values()];
  if (state.lockedUntil !== null) times.push(state.lockedUntil);
  // Revoked sessions count too: recording their expiry is what removes them from state.
  for (const session of state.sessions.values()) times.push(session.expiresAt);
  return times.length === 0 ? null : Math.min(...times);
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
    case "ServiceAccountRegistered":
      return { ...state, accountId: event.accountId, service: { name: event.name, clientId: event.clientId, scopes: event.scopes } };
    case "RoleGranted": {
      const roleExpiries = new Map(state.roleExpiries);
      if (event.expiresAt === null) roleExpiries.delete(event.role);
      else roleExpiries.set(event.role, event.expiresAt);
      const roles = state.roles.includes(event.role) ? state.roles : [...state.roles, event.role];
      return { ...state, roles, roleExpiries };
    }
    case "RoleExpired": {
      const roleExpiries = new Map(state.roleExpiries);
      roleExpiries.delete(event.role);
      return { ...state, roles: state.roles.filter((r) => r !== event.role), roleExpiries };
    }
    case "SessionExpired": {
      // An expired session can never be used again (nothing un-expires it), so it leaves
      // state: only events decide this, never a clock, so replay and snapshots agree.
      if (!state.sessions.has(event.sessionId)) return state;
      const sessions = new Map(state.sessions);
      sessions.delete(event.sessionId);
      return { ...state, sessions };
    }
    case "AccountClosed":
      return { ...state, closed: true };
    case "LoginSucceeded":
      return { ...state, consecutiveFailedLogins: 0 };
    case "LoginFailed":
      return { ...state, consecutiveFailedLogins: event.failedAttempts };
    case "AccountLocked":
      return { ...state, lockedUntil: event.until };
    case "AccountUnlocked":
      // An operator's unlock is a fresh start; an expired lock keeps counting toward the next.
      return { ...state, lockedUntil: null, consecutiveFailedLogins: event.reason === "operator" ? 0 : state.consecutiveFailedLogins };
    case "ConsentGranted": {
      const consents = new Map(state.consents);
      const union = new Set([...(state.consents.get(event.clientId) ?? []), ...event.scopes]);
      consents.set(event.clientId, [...union]);
      return { ...state, consents };
    }
    case "ConsentRevoked": {
      const consents = new Map(state.consents);
      consents.delete(event.clientId);
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
        amr: event.amr,
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
    case "MfaEnabled":
      return { ...state, mfaEnabled: true, recoveryCodesRemaining: event.recoveryCodes };
    case "MfaDisabled":
      return { ...state, mfaEnabled: false, recoveryCodesRemaining: 0 };
    case "RecoveryCodeUsed":
      return { ...state, recoveryCodesRemaining: event.remaining };
    case "RecoveryCodesRegenerated":
      return { ...state, recoveryCodesRemaining: event.count };
    case "PasswordChanged":
      return { ...state, passwordChangedAt: event.at };
    case "PasswordVerified":
    case "MfaVerified":
      return state;
    case "PasswordSet":
    case "ConsentDenied":
    case "ToolInvoked":
    // Client administration is for the audit trail; the registry (ClientRegistryObject) holds the client.
    case "ClientRegistered":
    case "ClientDisabled":
      return state;
  }
};

export const fold = (events: Iterable<AccountEvent>, from: AccountState = initialState): AccountState => {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
};
