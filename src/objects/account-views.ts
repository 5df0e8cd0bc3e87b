// What callers see of an account, computed from its folded state at a given time. Pure:
// the AccountObject hands in its state; nothing here reads storage or the clock.

import { activeRoles, sessionProblem, type AccountState } from "../../domain/account.ts";
import { permissionsOf, sortRoles, type Role } from "../../domain/roles.ts";

export interface AccountView {
  readonly accountId: string;
  readonly email: string;
  readonly roles: ReadonlyArray<Role>;
  readonly permissions: ReadonlyArray<string>;
  readonly closed: boolean;
  /** Second factor enrolled, and when the password last changed (browser sessions check both). */
  readonly mfaEnabled?: boolean;
  readonly passwordChangedAt?: number | null;
}

/** A service account as tools see it: no email, and the one client acting as it. */
export interface ServiceAccountView extends Omit<AccountView, "email"> {
  readonly email: null;
  readonly service: { readonly name: string; readonly clientId: string };
}

/** Whoever holds a session: a person or a service account. */
export type CallerView = AccountView | ServiceAccountView;

const rolesAt = (state: AccountState, at: number) => {
  const roles = activeRoles(state, at);
  // A service account never holds a person-only permission, whatever its roles (domain/roles.ts).
  return { roles: sortRoles(roles), permissions: [...permissionsOf(roles, state.service === null ? "person" : "service")].sort() };
};

/** A person's account (null for an unregistered object or a service account). */
export function viewOf(state: AccountState, at: number): AccountView | null {
  const { accountId, email, closed, mfaEnabled, passwordChangedAt } = state;
  if (accountId === null || email === null) return null;
  return { accountId, email, ...rolesAt(state, at), closed, mfaEnabled, passwordChangedAt };
}

/** The holder of a session: a person's view, or a service account's (which has no email). */
export function callerViewOf(state: AccountState, at: number): CallerView | null {
  const { accountId, service, closed } = state;
  if (accountId === null || service === null) return viewOf(state, at);
  return { accountId, email: null, service: { name: service.name, clientId: service.clientId }, ...rolesAt(state, at), closed };
}

/**
 * A browser sign-in session resuming at /authorize (src/pages/browser-session.ts): the account
 * now, whether a lockout runs, and the scopes already consented to for `clientId`.
 */
export function resumeStatusOf(state: AccountState, clientId: string, at: number) {
  const account = viewOf(state, at);
  if (!account) return null;
  const { lockedUntil, consents } = state;
  return { account, locked: lockedUntil !== null && at < lockedUntil, consented: [...(consents.get(clientId) ?? [])] };
}

/** The live sessions (not revoked, not expired at `at`), newest expiry first. */
export function liveSessionsOf(state: AccountState, at: number) {
  return [...state.sessions.values()]
    .filter((s) => sessionProblem(state, s.sessionId, at) === null)
    .map((s) => ({ sessionId: s.sessionId, clientId: s.clientId, scopes: s.scopes, expiresAt: s.expiresAt, refreshes: s.generation, amr: s.amr }))
    .sort((a, b) => b.expiresAt - a.expiresAt);
}
