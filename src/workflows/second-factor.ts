// The Worker's half of the second factor and of password change: the async, costly parts
// (opening the sealed seed, RFC 6238 HMACs with WebCrypto, scrypt) run here; the account
// object then decides and commits in one synchronous step (src/objects/account-mfa.ts), so a
// TOTP step or a recovery code is accepted at most once however many requests race.

import { normalizeEmail, passwordProblem } from "../../domain/credentials.ts";
import type { Env } from "../env.ts";
import { openSeed, sealSeed } from "../mfa-vault.ts";
import type { MfaRequest, MfaResults, PresentedFactor, VerifyOutcome } from "../objects/account-mfa.ts";
import type { RequestMeta } from "../objects/account-object.ts";
import { hashPassword, verifyPassword } from "../password.ts";
import { accountStub } from "../services/accounts.ts";
import { base32Encode, isTotpCode, matchingStep, newTotpSecret } from "../totp.ts";

/** What a person typed: an authenticator code, or one of their recovery codes. */
export type FactorInput = { readonly code: string } | { readonly recoveryCode: string };

/** A six-digit entry is a TOTP code; anything else is tried as a recovery code. */
export const factorOf = (entry: string): FactorInput | null => {
  const trimmed = entry.trim().slice(0, 64);
  if (trimmed === "") return null;
  return isTotpCode(trimmed.replace(/\s/g, "")) ? { code: trimmed } : { recoveryCode: trimmed };
};

/** AccountObject.mfa is typed per op, which RPC stub types flatten to a union: restore it here. */
const mfa = <R extends MfaRequest>(env: Env, accountId: string, request: R, meta: RequestMeta) =>
  accountStub(env, accountId).mfa(request, meta) as unknown as Promise<MfaResults[R["op"]] | null>;

/** Thrown when a stored seed does not open: a server fault (wrong key), never the client's. */
class SeedUnreadable extends Error {}

async function present(env: Env, accountId: string, factor: FactorInput, meta: RequestMeta): Promise<PresentedFactor | null> {
  if ("recoveryCode" in factor) return { method: "recovery_code", code: factor.recoveryCode };
  const active = await mfa(env, accountId, { op: "sealed", which: "active" }, meta);
  if (!active) return null;
  const seed = await openSeed(env, accountId, active.sealed);
  if (!seed) throw new SeedUnreadable(`TOTP seed of ${accountId} does not open`);
  return { method: "totp", secretId: active.id, step: await matchingStep(seed, factor.code, meta.at) };
}

/**
 * Checks a second factor for `purpose` and records the outcome (a failure counts toward the
 * lockout). null when the account has no second factor (or is closed).
 */
export async function checkSecondFactor(
  env: Env,
  accountId: string,
  factor: FactorInput,
  purpose: "sign_in" | "disable" | "regenerate",
  clientId: string | null,
  meta: RequestMeta,
  passwordVerifiedAt?: number,
): Promise<VerifyOutcome | null> {
  const presented = await present(env, accountId, factor, meta);
  if (!presented) return null;
  return mfa(env, accountId, { op: "verify", factor: presented, purpose, clientId, ...(passwordVerifiedAt === undefined ? {} : { passwordVerifiedAt }) }, meta);
}

/** A new pending seed: its base32 form for the page, and the id the confirmation must name. */
export async function beginEnrollment(env: Env, accountId: string, meta: RequestMeta) {
  const seed = newTotpSecret();
  const started = await mfa(env, accountId, { op: "start", sealed: await sealSeed(env, accountId, seed) }, meta);
  return started ? { secret: base32Encode(seed), enrollmentId: started.pendingId } : null;
}

/** The pending seed again (the page is shown again after a wrong first code). */
export async function pendingSecret(env: Env, accountId: string, enrollmentId: string, meta: RequestMeta): Promise<string | null> {
  const pending = await mfa(env, accountId, { op: "sealed", which: "pending" }, meta);
  if (!pending || pending.id !== enrollmentId) return null;
  const seed = await openSeed(env, accountId, pending.sealed);
  return seed ? base32Encode(seed) : null;
}

export type EnrollmentOutcome =
  | { readonly ok: true; readonly recoveryCodes: ReadonlyArray<string> }
  | { readonly ok: false; readonly reason: "wrong_code" | "replaced" };

/** Whether the account has a second factor on, and how many recovery codes are left. */
export const mfaStatus = (env: Env, accountId: string, meta: RequestMeta) => mfa(env, accountId, { op: "status" }, meta);

/** The first code proves the person's app holds the seed; only then is TOTP turned on. */
export async function confirmEnrollment(env: Env, accountId: string, enrollmentId: string, code: string, meta: RequestMeta): Promise<EnrollmentOutcome> {
  const pending = await mfa(env, accountId, { op: "sealed", which: "pending" }, meta);
  if (!pending || pending.id !== enrollmentId) return { ok: false, reason: "replaced" };
  const seed = await openSeed(env, accountId, pending.sealed);
  if (!seed) throw new SeedUnreadable(`pending TOTP seed of ${accountId} does not open`);
  const step = await matchingStep(seed, code, meta.at);
  if (step === null) return { ok: false, reason: "wrong_code" };
  const confirmed = await mfa(env, accountId, { op: "confirm", pendingId: enrollmentId, step }, meta);
  return confirmed?.ok ? { ok: true, recoveryCodes: confirmed.recoveryCodes } : { ok: false, reason: "replaced" };
}

export type PasswordChangeOutcome =
  | { readonly ok: true; readonly sessionsEnded: number }
  | { readonly ok: false; readonly reason: "weak"; readonly message: string }
  | { readonly ok: false; readonly reason: "wrong_password" | "locked" | "retry" };

/**
 * Password change: the new password meets the policy (domain/credentials.ts), the current one
 * is right (a wrong one counts toward the lockout), then PasswordChanged and every session of
 * the account revoked. A page has no OAuth session of its own, so none is kept.
 */
export async function changePassword(env: Env, accountId: string, input: { current: string; next: string }, meta: RequestMeta): Promise<PasswordChangeOutcome> {
  const stub = accountStub(env, accountId);
  const view = await stub.view();
  const stored = await stub.passwordHash();
  if (!view || !stored) return { ok: false, reason: "retry" };
  const weak = passwordProblem(input.next, normalizeEmail(view.email));
  if (weak) return { ok: false, reason: "weak", message: weak };
  const matches = await verifyPassword(input.current, stored);
  const newHash = matches ? await hashPassword(input.next) : null;
  const result = await stub.changePassword({ currentMatches: matches, verifiedHash: stored.hash, newHash, keepSessionId: null }, meta);
  if (!result.ok) return { ok: false, reason: "retry" };
  const events = result.events.map((e) => e.data);
  if (events.some((e) => e._tag === "PasswordChanged")) return { ok: true, sessionsEnded: events.filter((e) => e._tag === "SessionRevoked").length };
  return { ok: false, reason: events.some((e) => e._tag === "LoginFailed" && e.reason === "account_locked") ? "locked" : "wrong_password" };
}
