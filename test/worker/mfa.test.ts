// TOTP multi-factor through the real Worker and account object: enrollment on the security
// page, the sign-in challenge, replay refusal, recovery codes, the lockout on second-factor
// failures, secrets kept out of the event log, and the assurance level (RFC 8176 amr) on
// SessionStarted, the JWT and whoami, kept across refresh; SessionStarted v1 rows upcast.

import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { AccountObject } from "../../src/objects/account-object.ts";
import { timeStep } from "../../src/totp.ts";
import { env } from "cloudflare:workers";
import { signAccessToken } from "../../src/keys.ts";
import { allEvents, call, cookiesOf, form, issueSession, meta, ORIGIN, registeredAccount, RESOURCE, sql, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { codeAt, consentAndRedeem, enroll, hidden, mcpTool, openSecurity, passwordStep, signedUpPerson, wrongCode } from "./mfa-flow.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const eventsOf = async (stub: Parameters<typeof allEvents>[0]) => (await allEvents(stub)).map((e) => e.data);

/** An enrolled person: signed up, TOTP on (the current step used by the enrollment). */
async function enrolledPerson() {
  const person = await signedUpPerson();
  return { ...person, ...(await enroll(person.email)) };
}

describe("RFC 6238 enrollment on the security page", () => {
  it("shows the otpauth:// URI and the base32 secret, turns MFA on after a right first code, and shows 10 recovery codes once", async () => {
    const person = await signedUpPerson();
    const { secret, enrollPage, codes, seed } = await enroll(person.email);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 20 random bytes
    expect(seed).toHaveLength(20);
    const uri = new URL(/id="otpauth-uri">([^<]+)</.exec(enrollPage)![1]!.replace(/&amp;/g, "&"));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("issuer")).toBe("Warden");
    expect(decodeURIComponent(uri.pathname)).toBe(`/Warden:${person.email}`);
    expect(enrollPage).toMatch(/<input id="confirm-code" name="code"[^>]*inputmode="numeric" autocomplete="one-time-code"/);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/); // 80 bits each
    const events = await eventsOf(person.stub);
    expect(events.filter((e) => e._tag === "MfaEnabled")).toEqual([{ _tag: "MfaEnabled", method: "totp", recoveryCodes: 10 }]);
    // The settings page now says so, and the recovery codes are not on it.
    const { page } = await openSecurity(person.email, undefined, await codeAt(seed, 1));
    expect(page).toContain("Two-step verification is <strong>on</strong>. 10 recovery codes left.");
    for (const code of codes) expect(page).not.toContain(code);
  });

  it("a wrong first code keeps MFA off and shows the same secret again", async () => {
    const person = await signedUpPerson();
    const { ticket } = await openSecurity(person.email);
    const enrollPage = await (await call("/account/mfa/enroll", form({ ticket }))).text();
    const secret = /id="totp-secret">([^<]+)</.exec(enrollPage)![1]!;
    const res = await call("/account/mfa/confirm", form({ ticket, enrollment: hidden(enrollPage, "enrollment"), code: "12345x" }));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(secret);
    expect((await eventsOf(person.stub)).some((e) => e._tag === "MfaEnabled")).toBe(false);
  });

  it("a forged or expired page ticket changes nothing", async () => {
    const res = await call("/account/mfa/enroll", form({ ticket: "not-a-ticket" }));
    expect(res.status).toBe(400);
  });
});

describe("RFC 6238 sign-in challenge (/login then /login/mfa)", () => {
  it("a right password shows the code page, not consent; a right code continues to consent with amr pwd+otp on the session, the JWT and whoami", async () => {
    const person = await enrolledPerson();
    const { res, clientId, pkce } = await passwordStep(person.email);
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(page).toMatch(/<input id="code" name="code"[^>]*inputmode="numeric" autocomplete="one-time-code"/);
    expect(page).toContain('name="recovery_code"');
    expect(page).not.toContain('name="decision"');
    const events = await eventsOf(person.stub);
    expect(events.at(-1)).toEqual({ _tag: "PasswordVerified", clientId });

    const challenged = await call("/login/mfa", form({ ticket: hidden(page, "ticket"), code: await codeAt(person.seed, 1) }));
    expect(challenged.status).toBe(200);
    const tokens = await consentAndRedeem(challenged, clientId, pkce.verifier);
    expect(tokens.claims).toMatchObject({ amr: ["pwd", "otp"], acr: "urn:warden:aal2" });
    const started = (await eventsOf(person.stub)).filter((e) => e._tag === "SessionStarted");
    expect(started.at(-1)).toMatchObject({ sessionId: tokens.claims.sid, amr: ["pwd", "otp"] });
    const whoami = await mcpTool(tokens.access_token, "whoami");
    expect(whoami.result?.structuredContent).toMatchObject({ amr: ["pwd", "otp"], sessionId: tokens.claims.sid });
    const sessions = await mcpTool(tokens.access_token, "list_sessions");
    expect(sessions.result?.structuredContent?.sessions).toEqual([expect.objectContaining({ sessionId: tokens.claims.sid, amr: ["pwd", "otp"] })]);

    // A refresh keeps the session's assurance level.
    const refreshed = await call("/token", form({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: clientId }));
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(((await refreshed.json()) as { access_token: string }).access_token)).toMatchObject({ amr: ["pwd", "otp"], acr: "urn:warden:aal2", sid: tokens.claims.sid });
  });

  it("without MFA the session and token say amr [pwd], acr aal1", async () => {
    const person = await signedUpPerson();
    const { res, clientId, pkce } = await passwordStep(person.email);
    const tokens = await consentAndRedeem(res, clientId, pkce.verifier);
    expect(tokens.claims).toMatchObject({ amr: ["pwd"], acr: "urn:warden:aal1" });
  });

  it("§5.2 replay: a code is accepted once; the same code again, or an older one, is refused", async () => {
    const person = await enrolledPerson();
    const code = await codeAt(person.seed, 1);
    const first = await passwordStep(person.email);
    const ticket = hidden(await first.res.text(), "ticket");
    expect((await call("/login/mfa", form({ ticket, code }))).status).toBe(200);
    const again = await call("/login/mfa", form({ ticket, code }));
    expect(again.status).toBe(401);
    expect(await again.text()).toContain("not right, or was already used");
    // The enrollment used the current step: the previous step is older than the last accepted one.
    expect((await call("/login/mfa", form({ ticket, code: await codeAt(person.seed, -1) }))).status).toBe(401);
    const row = await sql<{ last_step: number }>(person.stub, "SELECT last_step FROM mfa_totp");
    expect(row[0]!.last_step).toBe(timeStep(Date.now()) + 1);
  });

  it("two racing submissions of one code: exactly one is accepted", async () => {
    const person = await enrolledPerson();
    const code = await codeAt(person.seed, 1);
    const ticket = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    const statuses = await Promise.all([1, 2, 3].map(() => call("/login/mfa", form({ ticket, code })).then((r) => r.status)));
    expect(statuses.sort()).toEqual([200, 401, 401]);
  });

  it("a recovery code signs in once; used again it is refused", async () => {
    const person = await enrolledPerson();
    const [code] = person.codes;
    const ticket = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    expect((await call("/login/mfa", form({ ticket, recovery_code: code!.toUpperCase().replace(/-/g, " ") }))).status).toBe(200);
    expect((await call("/login/mfa", form({ ticket, recovery_code: code! }))).status).toBe(401);
    const events = await eventsOf(person.stub);
    expect(events.filter((e) => e._tag === "RecoveryCodeUsed")).toEqual([{ _tag: "RecoveryCodeUsed", remaining: 9 }]);
    expect(events.filter((e) => e._tag === "MfaVerified").map((e) => e._tag === "MfaVerified" && e.method)).toEqual(["recovery_code"]);
  });

  it("a forged mfa ticket is an expired page, and another kind of ticket is not an mfa ticket", async () => {
    expect((await call("/login/mfa", form({ ticket: "x.y.z", code: "123456" }))).status).toBe(400);
    const person = await enrolledPerson();
    const { ticket: accountTicket } = await openSecurity(person.email, undefined, await codeAt(person.seed, 1));
    expect((await call("/login/mfa", form({ ticket: accountTicket, code: await codeAt(person.seed, 1) }))).status).toBe(400);
  });
});

describe("lockout covers the second factor", () => {
  it("five wrong codes lock the account; the right code is then refused too, and nothing is spent", async () => {
    const person = await enrolledPerson();
    const ticket = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    const wrong = await wrongCode(person.seed);
    for (let i = 0; i < 5; i++) expect((await call("/login/mfa", form({ ticket, code: wrong }))).status).toBe(401);
    const right = await call("/login/mfa", form({ ticket, code: await codeAt(person.seed, 1) }));
    expect(right.status).toBe(401);
    const events = await eventsOf(person.stub);
    const failures = events.filter((e) => e._tag === "LoginFailed");
    expect(failures.map((e) => e._tag === "LoginFailed" && [e.reason, e.failedAttempts])).toEqual([
      ["invalid_second_factor", 1], ["invalid_second_factor", 2], ["invalid_second_factor", 3], ["invalid_second_factor", 4],
      ["invalid_second_factor", 5], ["account_locked", 5],
    ]);
    expect(events.some((e) => e._tag === "AccountLocked")).toBe(true);
    // The refused right code was not marked used: it still works once the lock ends.
    const row = await sql<{ last_step: number }>(person.stub, "SELECT last_step FROM mfa_totp");
    expect(row[0]!.last_step).toBe(timeStep(Date.now()));
  });

  it("while locked, the right password gets no code page either", async () => {
    const person = await enrolledPerson();
    const ticket = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    const wrong = await wrongCode(person.seed);
    for (let i = 0; i < 5; i++) await call("/login/mfa", form({ ticket, code: wrong }));
    const { res } = await passwordStep(person.email);
    expect(res.status).toBe(401);
  });
});

describe("the security page after a recent sign-in in this browser", () => {
  it("a fresh browser-session cookie opens the settings without the password form; no cookie gets the form", async () => {
    const person = await signedUpPerson();
    const { res } = await passwordStep(person.email);
    const cookie = cookiesOf(res);
    expect(cookie).toContain("__Host-warden-session=");
    const withCookie = await (await call("/account/security", { headers: { cookie } })).text();
    expect(withCookie).toContain('id="mfa-status"');
    expect(withCookie).not.toContain('name="password"');
    const without = await (await call("/account/security")).text();
    expect(without).toContain('id="account-signin"');
  });

  it("after enrolling, a browser session that never gave the second factor no longer opens the settings", async () => {
    const person = await signedUpPerson();
    const { res } = await passwordStep(person.email);
    const cookie = cookiesOf(res);
    await enroll(person.email);
    expect(await (await call("/account/security", { headers: { cookie } })).text()).toContain('id="account-signin"');
  });
});

describe("disabling and regenerating need a fresh second factor", () => {
  it("new recovery codes replace the old ones, which stop working", async () => {
    const person = await enrolledPerson();
    const { ticket } = await openSecurity(person.email, undefined, await codeAt(person.seed, 1));
    const wrong = await call("/account/mfa/recovery-codes", form({ ticket, code: "not-a-code" }));
    expect(wrong.status).toBe(401);
    const res = await call("/account/mfa/recovery-codes", form({ ticket, code: person.codes[3]! }));
    const page = await res.text();
    expect(res.status).toBe(200);
    const fresh = [...page.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
    expect(fresh).toHaveLength(10);
    const signIn = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    expect((await call("/login/mfa", form({ ticket: signIn, recovery_code: person.codes[0]! }))).status).toBe(401);
    expect((await call("/login/mfa", form({ ticket: signIn, recovery_code: fresh[0]! }))).status).toBe(200);
  });

  it("turning MFA off deletes the seed and codes; sign-in is then a password again", async () => {
    const person = await enrolledPerson();
    const { ticket } = await openSecurity(person.email, undefined, await codeAt(person.seed, 1));
    const res = await call("/account/mfa/disable", form({ ticket, code: person.codes[0]! }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Two-step verification is <strong>off</strong>");
    expect(await sql(person.stub, "SELECT * FROM mfa_totp")).toEqual([]);
    expect(await sql(person.stub, "SELECT * FROM mfa_recovery_codes")).toEqual([]);
    const { res: signIn } = await passwordStep(person.email);
    expect(await signIn.text()).toContain('name="decision"'); // straight to consent
  });

  it("a security-page ticket from before enrollment does not stand after it (it has no second factor)", async () => {
    const person = await signedUpPerson();
    const { ticket: before } = await openSecurity(person.email);
    await enroll(person.email);
    expect((await call("/account/mfa/disable", form({ ticket: before, code: "123456" }))).status).toBe(400);
  });
});

describe("secrets never enter the event log", () => {
  it("no event row holds the seed, a TOTP code, or a recovery code; the stored seed is sealed", async () => {
    const person = await enrolledPerson();
    const code = await codeAt(person.seed, 1);
    const ticket = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    await call("/login/mfa", form({ ticket, code }));
    await call("/login/mfa", form({ ticket, recovery_code: person.codes[1]! }));
    const rows = await sql<{ data: string; metadata: string }>(person.stub, "SELECT data, metadata FROM events");
    const log = rows.map((r) => r.data + r.metadata).join("\n");
    const seedHex = Buffer.from(person.seed).toString("hex");
    for (const secret of [person.secret, person.secret.toLowerCase(), seedHex, Buffer.from(person.seed).toString("base64"), `"${code}"`, ...person.codes, ...person.codes.map((c) => c.replace(/-/g, ""))]) {
      expect(log).not.toContain(secret);
    }
    const [stored] = await sql<{ secret_sealed: string }>(person.stub, "SELECT secret_sealed FROM mfa_totp");
    expect(stored!.secret_sealed).toMatch(/^v1\./);
    expect(stored!.secret_sealed).not.toContain(person.secret);
    const hashes = await sql<{ code_hash: string }>(person.stub, "SELECT code_hash FROM mfa_recovery_codes");
    for (const code of person.codes) expect(hashes.map((h) => h.code_hash).join()).not.toContain(code);
  });
});

describe("SessionStarted v1 → v2 and codes from before migration 4", () => {
  it("migration 4 on a v3 database: an unredeemed code written before it starts a session with amr [pwd]", async () => {
    const { stub } = await registeredAccount();
    const request = { ticketId: crypto.randomUUID(), clientId: "c-old", clientName: "Old", redirectUri: "http://127.0.0.1:1/cb", redirectHost: "127.0.0.1:1", codeChallenge: "x".repeat(43), scopes: ["account:read"], resource: "https://warden.test/mcp", authAt: Date.now() };
    const approved = await stub.approve(request, meta());
    if (!approved.ok) throw new Error(approved.reason);
    // Back to the v3 shape: no amr or auth_at column, no MFA tables, migrations 4 and 5 not recorded.
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      const db = state.storage.sql;
      db.exec("ALTER TABLE auth_codes DROP COLUMN amr; ALTER TABLE auth_codes DROP COLUMN auth_at; DROP TABLE mfa_totp; DROP TABLE mfa_recovery_codes; DELETE FROM schema_migrations WHERE version >= 4");
      expect(db.exec("SELECT name FROM pragma_table_info('auth_codes')").toArray().map((c) => c.name)).not.toContain("amr");
    });
    await evictDurableObject(stub);
    const issued = await stub.redeemCode({ code: approved.value.code, clientId: "c-old", redirectUri: request.redirectUri, challengeOfVerifier: "x".repeat(43) }, meta());
    expect(issued.ok && issued.value.amr).toEqual(["pwd"]);
    const tables = (await sql<{ name: string }>(stub, "SELECT name FROM sqlite_master WHERE type = 'table'")).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(["mfa_totp", "mfa_recovery_codes"]));
    expect(await stub.mfa({ op: "status" }, meta())).toEqual({ enabled: false, recoveryCodesRemaining: 0 });
  });

  it("a v1 SessionStarted row (no amr) is read as amr [pwd]; its stored bytes and the chain are untouched", async () => {
    const { stub, accountId } = await registeredAccount();
    const sessionId = crypto.randomUUID();
    const v1 = { _tag: "SessionStarted", sessionId, clientId: "c", scopes: ["account:read"], resource: "r", expiresAt: Date.now() + 3_600_000 };
    await runInDurableObject(stub, (_i: AccountObject, state) => {
      const db = state.storage.sql;
      const head = db.exec<{ seq: number; hash: string }>("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").one();
      const row = { seq: head.seq + 1, event_id: crypto.randomUUID(), type: "SessionStarted", version: 1, data: JSON.stringify(v1), metadata: JSON.stringify({ ...meta(), actor: { kind: "user", id: accountId } }) };
      // The chain link as src/store/event-store.ts defines it, recomputed independently.
      const hash = createHash("sha256").update(head.hash + JSON.stringify([row.seq, row.event_id, row.type, row.version, row.data, row.metadata])).digest("hex");
      db.exec("INSERT INTO events (seq, event_id, type, version, data, metadata, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        row.seq, row.event_id, row.type, row.version, row.data, row.metadata, head.hash, hash);
    });
    await evictDurableObject(stub);
    const read = (await allEvents(stub)).at(-1)!;
    expect(read).toMatchObject({ version: 1, data: { ...v1, amr: ["pwd"] } });
    expect(await stub.verifyChain()).toMatchObject({ ok: true });
    expect((await stub.listSessions(Date.now()))[0]).toMatchObject({ sessionId, amr: ["pwd"] });
    const [stored] = await sql<{ data: string }>(stub, "SELECT data FROM events WHERE seq = ?", read.seq);
    expect(JSON.parse(stored!.data)).toEqual(v1);
  });
});

describe("bad input to the second-factor pages is a 4xx page and changes nothing", () => {
  const routes = ["/login/mfa", "/account/security/verify", "/account/mfa/enroll", "/account/mfa/confirm", "/account/mfa/recovery-codes", "/account/mfa/disable", "/account/password"];
  it.each(routes)("%s with a forged ticket → 400 page", async (path) => {
    const res = await call(path, form({ ticket: "a.b.c", code: "123456", recovery_code: "x", enrollment: "e", current_password: "p", new_password: "q" }));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });
  it.each(routes)("%s with a repeated parameter → 400 page", async (path) => {
    const res = await call(path, form([["ticket", "a"], ["ticket", "b"]]));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  });
  it("a body over 64 KiB → 413 page", async () => {
    const res = await call("/login/mfa", form({ ticket: "x".repeat(70_000) }));
    expect(res.status).toBe(413);
  });
  it("a real ticket with junk in the code field is refused with 401 and spends nothing", async () => {
    const person = await enrolledPerson();
    const ticket = hidden(await (await passwordStep(person.email)).res.text(), "ticket");
    for (const code of ["", "１２３４５６", "<script>", "9".repeat(64), "-- -- --"]) {
      const res = await call("/login/mfa", form({ ticket, code }));
      expect(res.status).toBe(401);
      expect(await res.text()).not.toContain("<script>");
    }
    expect(await sql(person.stub, "SELECT 1 FROM mfa_recovery_codes WHERE used_at IS NOT NULL")).toEqual([]);
  });
});

describe("NIST SP 800-63B §4.2.1: turning MFA on ends every password-only session", () => {
  it("a session signed in with the password alone is revoked (mfa_enabled): its JWT fails at the next /mcp request and its refresh token is dead", async () => {
    const person = await signedUpPerson();
    const issued = await issueSession(person.stub, { clientId: "client-pwd-only" });
    const token = await signAccessToken(env, ORIGIN, RESOURCE, { sub: person.accountId, sid: issued.sessionId, client_id: issued.clientId, scope: "account:read" });
    expect((await mcpTool(token, "whoami")).status).toBe(200);
    await enroll(person.email);
    expect((await mcpTool(token, "whoami")).status).toBe(401);
    expect(await person.stub.refresh({ refreshToken: issued.refreshToken, clientId: issued.clientId, scopes: null }, meta())).toEqual({ ok: false, reason: "session_not_live" });
    expect(await eventsOf(person.stub)).toContainEqual({ _tag: "SessionRevoked", sessionId: issued.sessionId, reason: "mfa_enabled" });
  });
});

describe("OWASP account lockout: a lockout ends the security page's sign-in too", () => {
  it("a settings ticket from before the lock is refused while the account is locked, and nothing is enrolled", async () => {
    const person = await signedUpPerson();
    const { ticket } = await openSecurity(person.email);
    for (let i = 0; i < 5; i++) await person.stub.recordLogin(false, null, meta());
    expect((await call("/account/security", form({ ticket }))).status).toBe(400);
    expect((await call("/account/mfa/enroll", form({ ticket }))).status).toBe(400);
    expect((await eventsOf(person.stub)).some((e) => e._tag === "MfaEnabled")).toBe(false);
  });
});
