// A sign-in does not outlive the account state it was made under (domain/authentication.ts):
// a consent page, an unredeemed code or a second-factor challenge opened before a password
// change, MFA enrolment or a lockout is refused afterwards, records nothing, and the honest
// person gets through again by signing in again. Driven through the pages as a browser would
// (consent-flow.ts, mfa-flow.ts), plus the account object's own checks (defence in depth).

import { runInDurableObject, evictDurableObject } from "cloudflare:test";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { AccountObject } from "../../src/objects/account-object.ts";
import {
  answerConsent, call, codeRequest, consentFormOf, form, meta, pkcePair, registerClient, sql, WARM_UP_TIMEOUT_MS, warmUp, type AccountStub,
} from "./helpers.ts";
import { authorizeAs, codeOf, eventTypes, requestTicketOf, signUpToConsent } from "./consent-flow.ts";
import { consentAndRedeem, enroll, hidden, openSecurity, PASSWORD, passwordStep, REDIRECT } from "./mfa-flow.ts";

const NEW_PASSWORD = "violet-Ledger-42-canyon";
let clientId = "";
beforeAll(async () => {
  await warmUp();
  clientId = await registerClient([REDIRECT]);
}, WARM_UP_TIMEOUT_MS);

/** The person changes their password on the security page (in their own browser). */
async function changePassword(email: string, secondFactor?: string) {
  const { ticket } = await openSecurity(email, PASSWORD, secondFactor);
  const res = await call("/account/password", form({ ticket, current_password: PASSWORD, new_password: NEW_PASSWORD }));
  expect(res.status).toBe(200);
}

const exchange = (code: string, verifier: string) =>
  call("/token", form({ grant_type: "authorization_code", client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: verifier }));

/** The refusal page: 403 "Sign in again", the browser session cleared, nothing approved. */
async function expectSignInAgain(res: Response) {
  expect(res.status).toBe(403);
  expect(res.headers.get("location")).toBeNull();
  expect(await res.text()).toContain("Sign in again");
  expect(res.headers.getSetCookie()).toEqual(["__Host-warden-session=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax"]);
}

/** The honest path afterwards: a fresh /authorize, the password form, consent, tokens. */
async function signInAgainAndRedeem(email: string, password: string) {
  const pkce = pkcePair();
  const signIn = await authorizeAs(null, clientId, REDIRECT, { challenge: pkce.challenge });
  const res = await call("/login", form({ email, password, request: requestTicketOf(await signIn.text()) }));
  expect(res.status).toBe(200);
  return consentAndRedeem(res, clientId, pkce.verifier);
}

const grantsAndSessions = async (stub: AccountStub) => (await eventTypes(stub)).filter((t) => t === "ConsentGranted" || t === "SessionStarted");

describe("OWASP session management / NIST SP 800-63B §7.1: a password change ends every earlier sign-in", () => {
  it("A: a consent page opened before the change is refused at Allow, records nothing, and a new sign-in works", async () => {
    const { consent, email, stub } = await signUpToConsent(clientId, REDIRECT);
    await changePassword(email);
    const before = await eventTypes(stub);
    await expectSignInAgain(await answerConsent(consent, "allow"));
    expect(await eventTypes(stub)).toEqual(before);
    const tokens = await signInAgainAndRedeem(email, NEW_PASSWORD);
    expect(tokens.claims.amr).toEqual(["pwd"]);
  });

  it("B: a code issued before the change is invalid_grant at /token, starts no session, and stays dead", async () => {
    const pkce = pkcePair();
    const { consent, email, stub } = await signUpToConsent(clientId, REDIRECT, { challenge: pkce.challenge });
    const code = codeOf(await answerConsent(consent, "allow")).searchParams.get("code")!;
    await changePassword(email);
    const res = await exchange(code, pkce.verifier);
    expect(res.status).toBe(400);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body).toMatchObject({ error: "invalid_grant" });
    expect(body.error_description).toContain("sign in again");
    expect((await exchange(code, pkce.verifier)).status).toBe(400);
    expect(await grantsAndSessions(stub)).toEqual(["ConsentGranted"]);
    await signInAgainAndRedeem(email, NEW_PASSWORD);
    expect(await grantsAndSessions(stub)).toEqual(["ConsentGranted", "SessionStarted"]);
  });

  it("E: a second-factor challenge from a password step before the change is refused before any code is checked", async () => {
    const person = await signUpToConsent(clientId, REDIRECT);
    const mfa = await enroll(person.email);
    const challenge = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    await changePassword(person.email, mfa.codes[0]);
    const before = await eventTypes(person.stub);
    const res = await call("/login/mfa", form({ ticket: challenge, recovery_code: mfa.codes[1]! }));
    await expectSignInAgain(res);
    expect(await eventTypes(person.stub)).toEqual(before);
    // The recovery code was not spent: the honest sign-in with the new password uses it.
    const again = await passwordStep(person.email, NEW_PASSWORD);
    const done = await call("/login/mfa", form({ ticket: hidden(await again.res.text(), "ticket"), recovery_code: mfa.codes[1]! }));
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('name="decision"');
  });

  it("E (object): VerifySecondFactor with a password step before the change is refused unchecked, even past the page", async () => {
    const person = await signUpToConsent(clientId, REDIRECT);
    const mfa = await enroll(person.email);
    const passwordAt = Date.now();
    await changePassword(person.email, mfa.codes[0]);
    const before = await eventTypes(person.stub);
    const verify = (at: number) =>
      person.stub.mfa({ op: "verify", factor: { method: "recovery_code", code: mfa.codes[1]! }, purpose: "sign_in", clientId: null, passwordVerifiedAt: at }, meta());
    expect(await verify(passwordAt)).toEqual({ verified: false, locked: false, recoveryCodes: null, credentialsChanged: true });
    expect(await eventTypes(person.stub)).toEqual(before);
    expect(await verify(Date.now())).toMatchObject({ verified: true });
  });
});

describe("NIST SP 800-63B §4.2.1 (AAL2): turning MFA on ends every password-only sign-in", () => {
  it("C: a consent page opened with a password only is refused once MFA is on; the new sign-in carries amr [pwd, otp]", async () => {
    const { consent, email, stub } = await signUpToConsent(clientId, REDIRECT);
    const mfa = await enroll(email);
    const before = await eventTypes(stub);
    await expectSignInAgain(await answerConsent(consent, "allow"));
    expect(await eventTypes(stub)).toEqual(before);
    const { res, clientId: other, pkce } = await passwordStep(email);
    const consentPage = await call("/login/mfa", form({ ticket: hidden(await res.text(), "ticket"), recovery_code: mfa.codes[0]! }));
    const tokens = await consentAndRedeem(consentPage, other, pkce.verifier);
    expect(tokens.claims).toMatchObject({ amr: ["pwd", "otp"], acr: "urn:warden:aal2" });
  });

  it("a code from a password-only sign-in dies when MFA is turned on before /token", async () => {
    const pkce = pkcePair();
    const { consent, email, stub } = await signUpToConsent(clientId, REDIRECT, { challenge: pkce.challenge });
    const code = codeOf(await answerConsent(consent, "allow")).searchParams.get("code")!;
    await enroll(email);
    const res = await exchange(code, pkce.verifier);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_grant" });
    expect(await grantsAndSessions(stub)).toEqual(["ConsentGranted"]);
  });
});

describe("OWASP authentication (account lockout): a lockout refuses sign-ins begun before it", () => {
  it("D: a pending consent page is refused while the account is locked, and works again after a new sign-in once unlocked", async () => {
    const { consent, email, stub } = await signUpToConsent(clientId, REDIRECT);
    const request = requestTicketOf(await (await authorizeAs(null, clientId, REDIRECT)).text());
    for (let i = 0; i < 5; i++) expect((await call("/login", form({ email, password: "wrong-password-zz", request }))).status).toBe(401);
    expect(await eventTypes(stub)).toContain("AccountLocked");
    const before = await eventTypes(stub);
    await expectSignInAgain(await answerConsent(consent, "allow"));
    expect(await eventTypes(stub)).toEqual(before);
    await stub.unlock({ reason: "identity verified", actor: { kind: "user", id: "operator-1" } }, meta());
    await signInAgainAndRedeem(email, PASSWORD);
  });
});

describe("the account object decides it, whatever the page did (defence in depth)", () => {
  it("approve refuses reauthentication_required for a sign-in at or before the password change, and records nothing", async () => {
    const { email, stub } = await signUpToConsent(clientId, REDIRECT);
    const signedInAt = Date.now();
    await changePassword(email);
    const before = await eventTypes(stub);
    expect(await stub.approve(codeRequest({ authAt: signedInAt }), meta())).toEqual({ ok: false, reason: "reauthentication_required" });
    expect(await eventTypes(stub)).toEqual(before);
    expect((await stub.approve(codeRequest({ authAt: Date.now() }), meta())).ok).toBe(true);
  });

  it("approve refuses a password-only sign-in on an MFA account (no amr [pwd] token for an aal2 account)", async () => {
    const { email, stub } = await signUpToConsent(clientId, REDIRECT);
    await enroll(email);
    expect(await stub.approve(codeRequest({ amr: ["pwd"] }), meta())).toEqual({ ok: false, reason: "reauthentication_required" });
    expect((await stub.approve(codeRequest({ amr: ["pwd", "otp"] }), meta())).ok).toBe(true);
  });

  it("migration 5 on a v4 database: a code written before it is read as signed in at its issue time", async () => {
    const { stub, email } = await signUpToConsent(clientId, REDIRECT);
    const requests = [codeRequest(), codeRequest()];
    const codes: string[] = [];
    for (const request of requests) {
      const approved = await stub.approve(request, meta());
      if (!approved.ok) throw new Error(approved.reason);
      codes.push(approved.value.code);
    }
    // Back to the v4 shape: no auth_at column, migration 5 not recorded.
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      state.storage.sql.exec("ALTER TABLE auth_codes DROP COLUMN auth_at; DELETE FROM schema_migrations WHERE version >= 5");
    });
    await evictDurableObject(stub);
    expect(await sql<{ auth_at: number | null }>(stub, "SELECT auth_at FROM auth_codes")).toEqual([{ auth_at: null }, { auth_at: null }]);
    const redeem = (i: number) =>
      stub.redeemCode({ code: codes[i]!, clientId: requests[i]!.clientId, redirectUri: requests[i]!.redirectUri, challengeOfVerifier: requests[i]!.codeChallenge }, meta());
    expect((await redeem(0)).ok).toBe(true);
    // Its issue time (expires_at - CODE_TTL_MS) is before the change, so the change kills it.
    await changePassword(email);
    expect(await redeem(1)).toEqual({ ok: false, reason: "reauthentication_required" });
  });
});

describe("the consent ticket carries when the person signed in", () => {
  it("authAt in the consent ticket is the browser session's sign-in time", async () => {
    const { consent, setCookie } = await signUpToConsent(clientId, REDIRECT);
    const session = decodeJwt(setCookie[0]!.split(";")[0]!.split("=")[1]!);
    expect(decodeJwt(consent.ticket).authAt).toBe(session.authAt);
  });
});
