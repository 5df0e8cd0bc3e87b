// Second-factor pages: the sign-in challenge (/login/mfa) and the account security page
// (/account/security, /account/mfa/*, /account/password). Forms in, workflows run, pages out.
//
// Page state travels in signed, expiring tickets (src/keys.ts), never in ambient cookies, so a
// form posted by another site carries nothing that authorizes it:
// - "mfa" (5 min): the password was right for this account; binds the authorization request
//   (sign-in) or the security page (purpose "account"). Wrong codes reuse it until it expires.
// - "account" (15 min): the person authenticated for the security page; `authAt` and `amr`
//   are re-checked on every use against the account now (closed, password changed since,
//   second factor enrolled since), so a ticket does not outlive what it stood for.

import { Effect, Layer } from "effect";
import { parseAdminEmails, PASSWORD_MIN } from "../../domain/credentials.ts";
import type { Env } from "../env.ts";
import { readForm, single } from "../http/body.ts";
import { html, requestMeta } from "../http/responses.ts";
import { signTicket, verifyTicket } from "../keys.ts";
import type { AccountView, RequestMeta } from "../objects/account-object.ts";
import type { AuthRequest } from "../oauth/authorize.ts";
import { accountsLayer, accountStub } from "../services/accounts.ts";
import { passwordsLayer } from "../services/passwords.ts";
import { otpauthUri } from "../totp.ts";
import { signIn } from "../workflows/access.ts";
import {
  beginEnrollment, changePassword, checkSecondFactor, confirmEnrollment, factorOf, mfaStatus, pendingSecret, type FactorInput,
} from "../workflows/second-factor.ts";
import { authenticationProblemOf } from "../../domain/authentication.ts";
import { authenticationFactsOfStatus, authMethodsOf, readBrowserSession, sessionProblem, type AuthMethod } from "./browser-session.ts";
import { signInAgain } from "./consent.ts";
import { completeSignIn } from "./flows.ts";
import { accountSignInPage, enrollPage, recoveryCodesPage, secondFactorPage, securityPage } from "./mfa-templates.ts";
import { messagePage } from "./templates.ts";

/** Time to open the authenticator app and type a code. */
const MFA_TICKET_TTL_S = 5 * 60;
/** A browser session opens the security page without a password only this soon after sign-in (like GitHub's sudo mode, shorter). */
const FRESH_SIGN_IN_S = 10 * 60;
const ISSUER = "Warden";
const WRONG_CODE = "That code is not right, or was already used. After several failed attempts, sign-in pauses for a few minutes.";

const START_AGAIN_HERE = "Open /account/security and sign in again.";

const expired = () => html(messagePage("This page has expired", "Start again: go back to your application, or open /account/security."), 400);

// ---- the sign-in challenge ----

/** After a right password for an account with MFA (called from submitSignIn). */
export async function showSecondFactor(env: Env, authRequest: AuthRequest, accountId: string, passwordAt: number): Promise<Response> {
  const ticket = await signTicket(env, "mfa", { accountId, purpose: "authorize", request: authRequest, passwordAt }, MFA_TICKET_TTL_S);
  return html(secondFactorPage({ action: "/login/mfa", ticket, heading: `Two-step verification for ${authRequest.clientName}`, error: null }));
}

/** The entry of either form: `code` (TOTP, or a recovery code typed there) or `recovery_code`. */
const factorFrom = (form: URLSearchParams): FactorInput | null => {
  const recovery = single(form, "recovery_code")?.trim();
  if (recovery) return { recoveryCode: recovery.slice(0, 64) };
  return factorOf(single(form, "code") ?? "");
};

export async function submitSecondFactor(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const ticket = single(form, "ticket") ?? "";
  const payload = ticket ? await verifyTicket(env, "mfa", ticket) : null;
  if (!payload || typeof payload.accountId !== "string" || (payload.purpose !== "authorize" && payload.purpose !== "account")) return expired();
  const accountId = payload.accountId;
  const authRequest = payload.purpose === "authorize" ? (payload.request as AuthRequest) : null;
  const again = (error: string) =>
    html(secondFactorPage({ action: authRequest ? "/login/mfa" : "/account/security/verify", ticket, heading: authRequest ? `Two-step verification for ${authRequest.clientName}` : "Two-step verification", error }), 401);
  // When the password half was verified; a ticket signed before it said so: its issue time.
  const passwordAt = typeof payload.passwordAt === "number" ? payload.passwordAt : typeof payload.iat === "number" ? payload.iat * 1000 : 0;
  // Before any code is looked at: a password changed at or after that moment (or a closed
  // account) ends this sign-in (domain/authentication.ts); nothing is checked or recorded. A
  // lockout is left to the account object, which refuses every factor unchecked and records it.
  const status = await accountStub(env, accountId).resumeStatus(authRequest?.clientId ?? "");
  if (!status) return expired();
  const problem = authenticationProblemOf(authenticationFactsOfStatus(status), { authAt: passwordAt, amr: ["pwd", "otp"] });
  if (problem === "credentials_changed" || problem === "closed") return signInAgain(authRequest ? undefined : START_AGAIN_HERE);
  const factor = factorFrom(form);
  if (!factor) return again("Enter the code from your authenticator app.");
  const meta = requestMeta(request);
  const outcome = await checkSecondFactor(env, accountId, factor, "sign_in", authRequest?.clientId ?? null, meta, passwordAt);
  // The account object decides the same again, in the same step that would accept the code.
  if (outcome?.credentialsChanged) return signInAgain(authRequest ? undefined : START_AGAIN_HERE);
  if (!outcome?.verified) return again(WRONG_CODE);
  const view = await accountStub(env, accountId).view();
  if (!view) return expired();
  const amr: AuthMethod[] = ["pwd", "otp"];
  if (authRequest) return completeSignIn(env, request, authRequest, view, amr);
  return showSecurity(env, meta, { view, amr, authAt: meta.at }, { notice: null, error: null });
}

// ---- the account security page ----

async function accountTicket(env: Env, accountId: string, amr: ReadonlyArray<AuthMethod>, authAt: number) {
  return signTicket(env, "account", { accountId, amr: [...amr], authAt });
}

/** The account a security-page ticket stands for, if it still does. */
async function readAccountTicket(env: Env, ticket: string | undefined) {
  const p = ticket ? await verifyTicket(env, "account", ticket) : null;
  if (!p || typeof p.accountId !== "string" || typeof p.authAt !== "number" || !Array.isArray(p.amr)) return null;
  // The one rule of domain/authentication.ts (closed, locked, password changed since, MFA
  // without otp), as for a browser session: a lockout ends this sign-in too.
  const status = await accountStub(env, p.accountId).resumeStatus("");
  if (!status) return null;
  const amr = authMethodsOf(p.amr);
  if (authenticationProblemOf(authenticationFactsOfStatus(status), { authAt: p.authAt, amr }) !== null) return null;
  return { view: status.account, amr, authAt: p.authAt, ticket: ticket! };
}

type Held = { readonly view: AccountView; readonly amr: ReadonlyArray<AuthMethod>; readonly authAt: number };

async function showSecurity(env: Env, meta: RequestMeta, held: Held, v: { notice: string | null; error: string | null }, status = 200) {
  const { view, amr, authAt } = held;
  const mfa = await mfaStatus(env, view.accountId, meta);
  const ticket = await accountTicket(env, view.accountId, amr, authAt);
  return html(
    securityPage({ ticket, email: view.email, mfaEnabled: mfa?.enabled ?? false, recoveryCodesRemaining: mfa?.recoveryCodesRemaining ?? 0, passwordMinLength: PASSWORD_MIN, ...v }),
    status,
  );
}

/** GET: the settings straight away after a recent sign-in in this browser, else a password form. */
export async function showAccountSecurity(request: Request, env: Env): Promise<Response> {
  const session = await readBrowserSession(env, request);
  if (session) {
    const status = await accountStub(env, session.accountId).resumeStatus("");
    if (status && sessionProblem(session, status, Date.now(), FRESH_SIGN_IN_S) === null) {
      return showSecurity(env, requestMeta(request), { view: status.account, amr: session.amr, authAt: session.authAt }, { notice: null, error: null });
    }
  }
  return html(accountSignInPage({ email: "", error: null }));
}

/** POST: a password sign-in for the settings (counted like any sign-in), or back with a ticket. */
export async function submitAccountSecurity(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  if (single(form, "ticket") !== undefined) {
    const held = await readAccountTicket(env, single(form, "ticket"));
    return held ? showSecurity(env, requestMeta(request), held, { notice: null, error: null }) : expired();
  }
  const email = single(form, "email") ?? "";
  const layers = Layer.mergeAll(accountsLayer(env, parseAdminEmails(env.ADMIN_EMAILS)), passwordsLayer);
  const meta = requestMeta(request);
  const result = await Effect.runPromise(Effect.result(signIn({ email, password: single(form, "password") ?? "", clientId: null }, meta).pipe(Effect.provide(layers))));
  if (result._tag === "Success") return showSecurity(env, meta, { view: result.success, amr: ["pwd"], authAt: meta.at }, { notice: null, error: null });
  if (result.failure._tag === "SecondFactorRequired") {
    const ticket = await signTicket(env, "mfa", { accountId: result.failure.accountId, purpose: "account", passwordAt: meta.at }, MFA_TICKET_TTL_S);
    return html(secondFactorPage({ action: "/account/security/verify", ticket, heading: "Two-step verification", error: null }));
  }
  return html(accountSignInPage({ email, error: "Wrong email or password. After several failed attempts, sign-in pauses for a few minutes." }), 401);
}

/** Every settings action starts here: a form with a ticket that still stands. */
async function heldAccount(request: Request, env: Env) {
  const form = await readForm(request);
  const held = await readAccountTicket(env, single(form, "ticket"));
  return held ? { form, held, meta: requestMeta(request) } : null;
}

export async function startEnrollment(request: Request, env: Env): Promise<Response> {
  const ctx = await heldAccount(request, env);
  if (!ctx) return expired();
  const { held, meta } = ctx;
  const begun = await beginEnrollment(env, held.view.accountId, meta);
  if (!begun) return showSecurity(env, meta, held, { notice: null, error: "Two-step verification is already on." }, 409);
  const uri = otpauthUri({ issuer: ISSUER, account: held.view.email, secret: begun.secret });
  return html(enrollPage({ ticket: held.ticket, enrollmentId: begun.enrollmentId, secret: begun.secret, uri, error: null }));
}

export async function confirmEnrollmentPage(request: Request, env: Env): Promise<Response> {
  const ctx = await heldAccount(request, env);
  if (!ctx) return expired();
  const { form, held, meta } = ctx;
  const enrollmentId = single(form, "enrollment") ?? "";
  const outcome = await confirmEnrollment(env, held.view.accountId, enrollmentId, single(form, "code") ?? "", meta);
  if (outcome.ok) {
    // The person just proved the new factor: the ticket now says so (otherwise it would stop standing).
    const ticket = await accountTicket(env, held.view.accountId, ["pwd", "otp"], held.authAt);
    return html(recoveryCodesPage({ ticket, codes: outcome.recoveryCodes, heading: "Two-step verification is on" }));
  }
  const secret = outcome.reason === "wrong_code" ? await pendingSecret(env, held.view.accountId, enrollmentId, meta) : null;
  if (!secret) return showSecurity(env, meta, held, { notice: null, error: "That setup was replaced or finished elsewhere. Start again." }, 409);
  const uri = otpauthUri({ issuer: ISSUER, account: held.view.email, secret });
  return html(enrollPage({ ticket: held.ticket, enrollmentId, secret, uri, error: "That code is not right. Check the time on your phone and try the newest code." }), 400);
}

/** Regenerate recovery codes, or turn MFA off: each needs a fresh second factor. */
async function withFreshFactor(request: Request, env: Env, purpose: "disable" | "regenerate"): Promise<Response> {
  const ctx = await heldAccount(request, env);
  if (!ctx) return expired();
  const { form, held, meta } = ctx;
  const factor = factorFrom(form);
  const outcome = factor ? await checkSecondFactor(env, held.view.accountId, factor, purpose, null, meta) : null;
  if (!outcome?.verified) return showSecurity(env, meta, held, { notice: null, error: WRONG_CODE }, 401);
  if (purpose === "regenerate") {
    return html(recoveryCodesPage({ ticket: held.ticket, codes: outcome.recoveryCodes ?? [], heading: "New recovery codes" }));
  }
  return showSecurity(env, meta, held, { notice: "Two-step verification is off. Your recovery codes no longer work.", error: null });
}

export const regenerateRecoveryCodes = (request: Request, env: Env) => withFreshFactor(request, env, "regenerate");
export const disableMfa = (request: Request, env: Env) => withFreshFactor(request, env, "disable");

export async function submitPasswordChange(request: Request, env: Env): Promise<Response> {
  const ctx = await heldAccount(request, env);
  if (!ctx) return expired();
  const { form, held, meta } = ctx;
  const outcome = await changePassword(env, held.view.accountId, { current: single(form, "current_password") ?? "", next: single(form, "new_password") ?? "" }, meta);
  const again = (error: string, status: number) => showSecurity(env, meta, held, { notice: null, error }, status);
  if (outcome.ok) {
    const ended = outcome.sessionsEnded;
    return html(messagePage("Password changed", `Your password is changed. ${ended} application session${ended === 1 ? " was" : "s were"} signed out; they will ask you to sign in again.`));
  }
  if (outcome.reason === "weak") return again(outcome.message, 400);
  if (outcome.reason === "retry") return again("Something changed meanwhile. Try again.", 409);
  return again("The current password is not right. After several failed attempts, sign-in pauses for a few minutes.", 401);
}
