// Second factor and password change inside the AccountObject. Synchronous from reading the
// side tables to committing events and side-table writes in one transaction, so two racing
// submissions of one TOTP code cannot both be accepted (RFC 6238 §5.2: one use per step) and
// a recovery code is spent exactly once. The Worker does the slow or async parts first
// (opening the sealed seed and computing HMACs with WebCrypto, scrypt) and passes results in.

import { randomBytes } from "node:crypto";
import type { AccountState } from "../../domain/account.ts";
import type { AccountCommand, SecondFactorProof } from "../../domain/commands.ts";
import { RECOVERY_CODE_COUNT } from "../../domain/mfa.ts";
import type { PasswordHash } from "../password.ts";
import { MfaSecrets } from "../store/mfa-secrets.ts";
import type { AccountSecrets } from "../store/secrets.ts";
import { base32Encode } from "../totp.ts";
import type { Executed } from "./account-log.ts";

export interface MfaContext {
  readonly mfa: MfaSecrets;
  readonly secrets: AccountSecrets;
  readonly state: () => AccountState;
  readonly at: number;
  readonly run: (command: AccountCommand, key: string) => Executed;
  readonly transaction: <T>(fn: () => T) => T;
}

/** A TOTP code the Worker matched to `step` of seed `secretId` (null: it matched no step). */
export type PresentedFactor =
  | { readonly method: "totp"; readonly secretId: string; readonly step: number | null }
  | { readonly method: "recovery_code"; readonly code: string };

export type MfaRequest =
  | { readonly op: "status" }
  | { readonly op: "sealed"; readonly which: "active" | "pending" }
  | { readonly op: "start"; readonly sealed: string }
  | { readonly op: "confirm"; readonly pendingId: string; readonly step: number }
  | {
      readonly op: "verify";
      readonly factor: PresentedFactor;
      readonly purpose: "sign_in" | "disable" | "regenerate";
      readonly clientId: string | null;
      /** sign_in: when the password half was verified (a password changed since refuses). */
      readonly passwordVerifiedAt?: number;
    };

export type VerifyOutcome = {
  readonly verified: boolean;
  /** Refused unchecked: the account is locked (or got locked by this failure). */
  readonly locked: boolean;
  readonly recoveryCodes: ReadonlyArray<string> | null;
  /** Refused unchecked: the password changed after this sign-in's password step. */
  readonly credentialsChanged?: true;
};

/** 80 random bits each (16 base32 characters), shown as four groups of four. */
const newRecoveryCodes = () =>
  Array.from({ length: RECOVERY_CODE_COUNT }, () => base32Encode(randomBytes(10)).toLowerCase().match(/.{4}/g)!.join("-"));

const SUCCESS = new Set(["MfaVerified", "MfaDisabled", "RecoveryCodesRegenerated"]);

/** What each request answers (one RPC, typed per op). */
export interface MfaResults {
  readonly status: { readonly enabled: boolean; readonly recoveryCodesRemaining: number };
  /** The sealed seed and its id, for the Worker to open; null when there is none. */
  readonly sealed: { readonly sealed: string; readonly id: string } | null;
  /** null when MFA is already on (disable it first). */
  readonly start: { readonly pendingId: string } | null;
  readonly confirm: { readonly ok: true; readonly recoveryCodes: ReadonlyArray<string> } | { readonly ok: false; readonly reason: string };
  /** null when the account cannot decide it (closed, no MFA). */
  readonly verify: VerifyOutcome | null;
}

export function mfaRequest<R extends MfaRequest>(ctx: MfaContext, request: R, requestId: string): MfaResults[R["op"]] {
  return answer(ctx, request, requestId) as MfaResults[R["op"]];
}

function answer(ctx: MfaContext, request: MfaRequest, requestId: string): MfaResults[MfaRequest["op"]] {
  const state = ctx.state();
  switch (request.op) {
    case "status":
      return { enabled: state.mfaEnabled, recoveryCodesRemaining: state.recoveryCodesRemaining };
    case "sealed": {
      const row = ctx.mfa.totp();
      const sealed = request.which === "active" ? row?.secret_sealed : row?.pending_sealed;
      const id = request.which === "active" ? row?.secret_id : row?.pending_id;
      return sealed && id ? { sealed, id } : null;
    }
    case "start": {
      if (state.mfaEnabled) return null;
      const pendingId = crypto.randomUUID();
      ctx.mfa.startEnrollment(request.sealed, pendingId);
      return { pendingId };
    }
    case "confirm":
      return confirm(ctx, request, requestId);
    case "verify":
      return verify(ctx, request, requestId);
  }
}

function confirm(ctx: MfaContext, request: Extract<MfaRequest, { op: "confirm" }>, requestId: string) {
  if (ctx.mfa.totp()?.pending_id !== request.pendingId) return { ok: false as const, reason: "enrollment_replaced" };
  const codes = newRecoveryCodes();
  return ctx.transaction(() => {
    const enabled = ctx.run({ _tag: "EnableMfa", recoveryCodes: codes.length, at: ctx.at }, `${requestId}:mfa-enable`);
    if (!enabled.ok) return { ok: false as const, reason: enabled.error };
    for (const { data } of enabled.events) if (data._tag === "SessionRevoked") ctx.secrets.supersedeSession(data.sessionId, ctx.at);
    ctx.mfa.confirmEnrollment(request.pendingId, request.step);
    ctx.mfa.replaceRecoveryCodes(codes);
    return { ok: true as const, recoveryCodes: codes };
  });
}

function verify(ctx: MfaContext, request: Extract<MfaRequest, { op: "verify" }>, requestId: string): VerifyOutcome | null {
  const { factor } = request;
  const verified =
    factor.method === "totp"
      ? factor.step !== null && ctx.mfa.stepUnused(factor.secretId, factor.step)
      : ctx.mfa.recoveryCodeUnused(factor.code);
  const proof: SecondFactorProof = { method: factor.method, verified };
  const command: AccountCommand =
    request.purpose === "sign_in"
      ? { _tag: "VerifySecondFactor", proof, clientId: request.clientId, at: ctx.at, passwordVerifiedAt: request.passwordVerifiedAt }
      : request.purpose === "disable"
        ? { _tag: "DisableMfa", proof, at: ctx.at }
        : { _tag: "RegenerateRecoveryCodes", proof, count: RECOVERY_CODE_COUNT, at: ctx.at };
  return ctx.transaction(() => {
    const result = ctx.run(command, `${requestId}:mfa-${request.purpose}`);
    if (!result.ok && result.error === "CredentialsChanged") return { verified: false, locked: false, recoveryCodes: null, credentialsChanged: true };
    if (!result.ok) return null;
    const types = result.events.map((e) => e.data);
    const locked = types.some((e) => e._tag === "AccountLocked" || (e._tag === "LoginFailed" && e.reason === "account_locked"));
    if (!types.some((e) => SUCCESS.has(e._tag))) return { verified: false, locked, recoveryCodes: null };
    // Spend what was presented in the same transaction as the events that say it was spent.
    if (factor.method === "totp" && factor.step !== null) ctx.mfa.acceptStep(factor.step);
    if (factor.method === "recovery_code") ctx.mfa.useRecoveryCode(factor.code, ctx.at);
    if (request.purpose === "disable") ctx.mfa.clear();
    let recoveryCodes: string[] | null = null;
    if (request.purpose === "regenerate") {
      recoveryCodes = newRecoveryCodes();
      ctx.mfa.replaceRecoveryCodes(recoveryCodes);
    }
    return { verified: true, locked: false, recoveryCodes };
  });
}

/**
 * Password change: `verifiedHash` is the stored hash the Worker checked the current password
 * against; if it changed meanwhile (a racing change) nothing is decided. On success the new
 * hash replaces the old one and every revoked session's refresh tokens die with it.
 */
export function changePassword(
  ctx: MfaContext,
  input: { currentMatches: boolean; verifiedHash: string; newHash: PasswordHash | null; keepSessionId: string | null },
  requestId: string,
): Executed | { ok: false; error: "Stale"; message: string } {
  if (ctx.secrets.password()?.hash !== input.verifiedHash) return { ok: false, error: "Stale", message: "the password changed meanwhile" };
  return ctx.transaction(() => {
    // The change takes effect when it commits, not when its request began: a sign-in that started
    // during the scrypt work before this point is older than the change and ends with it.
    const command: AccountCommand = { _tag: "ChangePassword", currentPasswordMatches: input.currentMatches, keepSessionId: input.keepSessionId, at: Math.max(ctx.at, Date.now()) };
    const result = ctx.run(command, `${requestId}:change-password`);
    if (!result.ok || !result.events.some((e) => e.data._tag === "PasswordChanged")) return result;
    if (input.newHash === null) throw new Error("PasswordChanged without a new hash");
    ctx.secrets.setPassword(input.newHash);
    for (const { data } of result.events) if (data._tag === "SessionRevoked") ctx.secrets.supersedeSession(data.sessionId, ctx.at);
    return result;
  });
}
