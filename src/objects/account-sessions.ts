// Sessions inside the account object, after they started: revocation by a client (RFC 7009),
// introspection (RFC 7662), and the user's own revocations. Synchronous like account-tokens.ts:
// nothing awaits between reading state and committing, so the object's input gate serializes.

import { sessionProblem } from "../../domain/account.ts";
import type { Executed } from "./account-log.ts";
import type { TokenContext } from "./account-tokens.ts";

/**
 * RFC 7009 §2.1: a client revokes a token it holds. A refresh token or an access token ends its
 * whole session (the refresh family and every JWT of it). Unknown tokens change nothing; a
 * token of another client is refused and changes nothing.
 */
export function revokeToken(
  ctx: TokenContext,
  input: { refreshToken?: string; sessionId?: string; clientId: string },
): "revoked" | "unknown" | "not_yours" {
  const sessionId = input.refreshToken ? ctx.secrets.findRefreshToken(input.refreshToken)?.session_id : input.sessionId;
  const session = sessionId ? ctx.state().sessions.get(sessionId) : undefined;
  if (!session) return "unknown";
  if (session.clientId !== input.clientId) return "not_yours";
  if (!session.revoked) {
    ctx.run({ _tag: "RevokeSession", sessionId: session.sessionId, reason: "client_revocation" }, { kind: "client", id: input.clientId });
  }
  ctx.secrets.supersedeSession(session.sessionId, ctx.at);
  return "revoked";
}

/** RFC 7662 §2.2: what a token stands for, if it is active now (live session, current refresh token). */
export function introspectSession(ctx: Pick<TokenContext, "secrets" | "state" | "at">, input: { refreshToken?: string; sessionId?: string }) {
  const state = ctx.state();
  const row = input.refreshToken ? ctx.secrets.findRefreshToken(input.refreshToken) : null;
  if (input.refreshToken && (!row || row.superseded_at !== null)) return null;
  const sessionId = row?.session_id ?? input.sessionId;
  const session = sessionId ? state.sessions.get(sessionId) : undefined;
  if (!session || sessionProblem(state, session.sessionId, ctx.at) !== null) return null;
  return { accountId: state.accountId!, sessionId: session.sessionId, clientId: session.clientId, scopes: session.scopes, expiresAt: session.expiresAt };
}

/** Every refresh token of the sessions these events revoked dies with them. */
export function supersedeRevoked(ctx: Pick<TokenContext, "secrets" | "at">, result: Executed): Executed {
  if (result.ok) {
    for (const { data } of result.events) if (data._tag === "SessionRevoked") ctx.secrets.supersedeSession(data.sessionId, ctx.at);
  }
  return result;
}
