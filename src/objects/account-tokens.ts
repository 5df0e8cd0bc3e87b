// Authorization-code and refresh-token handling inside the AccountObject. Everything here
// is synchronous so that check-then-write runs without interleaving (one account object
// serializes every token operation of its account).

import type { AccountState } from "../../domain/account.ts";
import { authenticationProblem, type AuthenticationProblem } from "../../domain/authentication.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { Actor, AuthMethod } from "../../domain/events.ts";
import { constantTimeEqual, randomToken, seal, sha256Hex, unseal } from "../crypto.ts";
import type { AccountSecrets, RefreshTokenRow } from "../store/secrets.ts";
import type { Executed } from "./account-object.ts";

/** OAuth 2.1 §4.1.2: codes are short-lived; two minutes covers a slow client's exchange. */
export const CODE_TTL_MS = 2 * 60 * 1000;
/**
 * Refresh grace window: a superseded refresh token presented again within this time, while
 * its successor is still the current one, gets that same successor back (a client that lost
 * the response, or raced itself) instead of tripping reuse detection. Okta's default grace
 * period is 30 s; past it, or once the successor has itself been used, reuse revokes.
 */
export const REFRESH_GRACE_MS = 30 * 1000;
/** Sliding session lifetime: each refresh extends it (like Auth0's inactivity lifetime). */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export type TokenRefusal =
  | "ticket_used"
  | "account_not_found"
  | "code_unknown"
  | "code_expired"
  | "code_reused"
  | "client_mismatch"
  | "redirect_mismatch"
  | "pkce_mismatch"
  | "refresh_unknown"
  | "refresh_reused"
  | "session_not_live"
  | "scope_widened"
  | "reauthentication_required";

export type TokenOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: TokenRefusal };

export interface CodeRequest {
  readonly ticketId: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly redirectUri: string;
  readonly redirectHost: string;
  readonly codeChallenge: string;
  readonly scopes: ReadonlyArray<string>;
  readonly resource: string;
  /** RFC 8176 methods of the sign-in behind this consent; absent means a password alone. */
  readonly amr?: ReadonlyArray<AuthMethod>;
  /** When that sign-in happened (ms): re-checked against the account at approval and redemption. */
  readonly authAt: number;
}

export interface CodeGrant {
  readonly code: string;
  readonly clientId: string;
  readonly redirectUri: string;
  /** base64url(SHA-256(code_verifier)), computed by the Worker (RFC 7636 §4.6). */
  readonly challengeOfVerifier: string;
}

export interface IssuedSession {
  readonly accountId: string;
  readonly sessionId: string;
  readonly clientId: string;
  readonly scopes: ReadonlyArray<string>;
  readonly resource: string;
  readonly refreshToken: string;
  /** How the person signed in (RFC 8176), from the session: a refresh keeps it. */
  readonly amr: ReadonlyArray<AuthMethod>;
}

export interface TokenContext {
  readonly secrets: AccountSecrets;
  readonly state: () => AccountState;
  readonly at: number;
  readonly run: (command: AccountCommand, actor?: Actor) => Executed;
  readonly runAsSystem: (command: AccountCommand) => Executed;
  /** Runs a command under an idempotency key (a consent ticket is answered once). */
  readonly runKeyed: (command: AccountCommand, idempotencyKey: string) => Executed;
  /** Whether an idempotency key already has an outcome. */
  readonly answered: (idempotencyKey: string) => boolean;
  readonly transaction: <T>(fn: () => T) => T;
}

/** Tokens carry the account id so the Worker can route them to this object without a lookup. */
const newSecret = (accountId: string) => `${accountId}.${randomToken()}`;

export function issueCode(secrets: AccountSecrets, request: CodeRequest, at: number, accountId: string): { code: string } {
  const code = newSecret(accountId);
  secrets.insertCode(code, {
    ticket_id: request.ticketId,
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    code_challenge: request.codeChallenge,
    scopes: JSON.stringify(request.scopes),
    resource: request.resource,
    expires_at: at + CODE_TTL_MS,
    amr: JSON.stringify(request.amr ?? ["pwd"]),
    auth_at: request.authAt,
  });
  return { code };
}

/** A closed account keeps its own refusals (GrantConsent, StartSession); the rest ask for a new sign-in. */
const needsSignIn = (problem: AuthenticationProblem | null) => problem !== null && problem !== "closed";

/** A consent ticket is answered once: allow (code issued) or deny, never both, never twice. */
const consentAnswered = (ctx: TokenContext, ticketId: string) => ctx.secrets.ticketUsed(ticketId) || ctx.answered(`consent:${ticketId}`);

/** Allow: record the consent and issue a single-use code (RFC 6749 §4.1.2). */
export function approveConsent(ctx: TokenContext, request: CodeRequest): TokenOutcome<{ code: string }> {
  if (consentAnswered(ctx, request.ticketId)) return { ok: false, reason: "ticket_used" };
  // The sign-in behind this consent must still stand (domain/authentication.ts): a page opened
  // before a password change, MFA enrolment or a lockout grants nothing; nothing is recorded.
  const auth = { authAt: request.authAt, amr: request.amr ?? ["pwd" as const] };
  if (needsSignIn(authenticationProblem(ctx.state(), auth, ctx.at))) return { ok: false, reason: "reauthentication_required" };
  const { clientId, clientName, redirectHost, scopes } = request;
  const consent = ctx.runKeyed({ _tag: "GrantConsent", clientId, clientName, redirectHost, scopes }, `consent:${request.ticketId}`);
  if (!consent.ok) return { ok: false, reason: "account_not_found" };
  return { ok: true, value: issueCode(ctx.secrets, request, ctx.at, ctx.state().accountId!) };
}

/** Deny: recorded, and the ticket is spent like an allow. */
export function denyConsent(ctx: TokenContext, input: { ticketId: string; clientId: string; scopes: ReadonlyArray<string> }): TokenOutcome<null> {
  if (consentAnswered(ctx, input.ticketId)) return { ok: false, reason: "ticket_used" };
  const denied = ctx.runKeyed({ _tag: "DenyConsent", clientId: input.clientId, scopes: input.scopes }, `consent:${input.ticketId}`);
  return denied.ok ? { ok: true, value: null } : { ok: false, reason: "account_not_found" };
}

export function exchangeCode(ctx: TokenContext, grant: CodeGrant): TokenOutcome<IssuedSession> {
  const row = ctx.secrets.findCode(grant.code);
  if (!row) return { ok: false, reason: "code_unknown" };
  // A code presented by another client changes nothing (RFC 6749 §4.1.3).
  if (row.client_id !== grant.clientId) return { ok: false, reason: "client_mismatch" };
  if (row.redeemed_at !== null) {
    // RFC 6749 §4.1.2: a reused code SHOULD revoke what it issued, since one of the
    // two presenters is an attacker.
    if (row.session_id) ctx.runAsSystem({ _tag: "RevokeSession", sessionId: row.session_id, reason: "authorization_code_reused" });
    if (row.session_id) ctx.secrets.supersedeSession(row.session_id, ctx.at);
    return { ok: false, reason: "code_reused" };
  }
  if (row.expires_at <= ctx.at) return { ok: false, reason: "code_expired" };
  if (row.redirect_uri !== grant.redirectUri) return { ok: false, reason: "redirect_mismatch" };
  if (!constantTimeEqual(row.code_challenge, grant.challengeOfVerifier)) {
    // A wrong verifier burns the code: no second guess with the same code.
    ctx.secrets.redeemCode(row.code_hash, ctx.at, null);
    return { ok: false, reason: "pkce_mismatch" };
  }
  // A code is as good as the sign-in behind it, re-checked now: a password change, MFA
  // enrolment, lockout or closing between consent and redemption kills it (burned, no event).
  // A code from before migration 5 has no auth_at: its sign-in was at the latest its issue time.
  // A code written before MFA existed has no amr: its sign-in was a password.
  const amr = row.amr === null ? ["pwd" as const] : (JSON.parse(row.amr) as AuthMethod[]);
  const authAt = row.auth_at ?? row.expires_at - CODE_TTL_MS;
  if (needsSignIn(authenticationProblem(ctx.state(), { authAt, amr }, ctx.at))) {
    ctx.secrets.redeemCode(row.code_hash, ctx.at, null);
    return { ok: false, reason: "reauthentication_required" };
  }
  const sessionId = crypto.randomUUID();
  const scopes = JSON.parse(row.scopes) as string[];
  return ctx.transaction(() => {
    const started = ctx.run({
      _tag: "StartSession", sessionId, clientId: row.client_id, scopes, resource: row.resource,
      expiresAt: ctx.at + SESSION_TTL_MS, at: ctx.at, amr,
    });
    if (!started.ok) return { ok: false, reason: "session_not_live" } as const;
    ctx.secrets.redeemCode(row.code_hash, ctx.at, sessionId);
    const accountId = ctx.state().accountId!;
    const refreshToken = newSecret(accountId);
    ctx.secrets.insertRefreshToken(refreshToken, sessionId, 0, row.client_id, ctx.at);
    return { ok: true, value: { accountId, sessionId, clientId: row.client_id, scopes, resource: row.resource, refreshToken, amr } } as const;
  });
}

export function rotateRefreshToken(
  ctx: TokenContext,
  input: { refreshToken: string; clientId: string; scopes: ReadonlyArray<string> | null },
): TokenOutcome<IssuedSession> {
  const row = ctx.secrets.findRefreshToken(input.refreshToken);
  if (!row) return { ok: false, reason: "refresh_unknown" };
  if (row.client_id !== input.clientId) return { ok: false, reason: "client_mismatch" };
  const session = ctx.state().sessions.get(row.session_id);
  // A token of a session already revoked (for any reason) is refused without new events.
  if (!session || session.revoked || ctx.state().closed) return { ok: false, reason: "session_not_live" };
  // RFC 6749 §6: a refresh may narrow the scope, never widen it.
  const scopes = input.scopes ?? session.scopes;
  if (!scopes.every((s) => session.scopes.includes(s))) return { ok: false, reason: "scope_widened" };
  if (row.superseded_at !== null) {
    const successor = graceSuccessor(ctx, row, input.refreshToken);
    if (successor !== null) {
      const accountId = ctx.state().accountId!;
      return { ok: true, value: { accountId, sessionId: row.session_id, clientId: row.client_id, scopes, resource: session.resource, refreshToken: successor, amr: session.amr } };
    }
    // RFC 9700 §4.14.2: a superseded refresh token coming back means it was stolen or
    // replayed; revoke the whole family so neither holder keeps access.
    ctx.transaction(() => {
      ctx.runAsSystem({ _tag: "RevokeSession", sessionId: row.session_id, reason: "refresh_token_reused" });
      ctx.secrets.supersedeSession(row.session_id, ctx.at);
    });
    return { ok: false, reason: "refresh_reused" };
  }
  return ctx.transaction(() => {
    const refreshed = ctx.run({
      _tag: "RefreshSession", sessionId: row.session_id, generation: row.generation,
      expiresAt: ctx.at + SESSION_TTL_MS, at: ctx.at,
    });
    if (!refreshed.ok) return { ok: false, reason: "session_not_live" } as const;
    const accountId = ctx.state().accountId!;
    const refreshToken = newSecret(accountId);
    ctx.secrets.supersede(sha256Hex(input.refreshToken), ctx.at, seal(refreshToken, input.refreshToken));
    ctx.secrets.insertRefreshToken(refreshToken, row.session_id, row.generation + 1, row.client_id, ctx.at);
    return {
      ok: true,
      value: { accountId, sessionId: row.session_id, clientId: row.client_id, scopes, resource: session.resource, refreshToken, amr: session.amr },
    } as const;
  });
}

/** The current successor of a just-rotated token, if this is a retry inside the grace window. */
function graceSuccessor(ctx: TokenContext, row: RefreshTokenRow, presented: string): string | null {
  if (row.superseded_at === null || row.successor_sealed === null || ctx.at - row.superseded_at > REFRESH_GRACE_MS) return null;
  const successor = unseal(row.successor_sealed, presented);
  const current = successor === null ? null : ctx.secrets.findRefreshToken(successor);
  return current !== null && current.superseded_at === null ? successor : null;
}
