// Password change on the security page: the policy holds (NIST SP 800-63B §3.1.1.2), the
// current password is required (a wrong one counts toward the lockout and changes nothing),
// and every OAuth session of the account is revoked: its JWTs fail at the very next /mcp
// request and its refresh tokens are dead (OWASP Session Management: invalidate on change).

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/keys.ts";
import { allEvents, call, form, issueSession, meta, ORIGIN, RESOURCE, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { codeAt, enroll, mcpTool, openSecurity, PASSWORD, signedUpPerson } from "./mfa-flow.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const NEW_PASSWORD = "violet-Ledger-42-canyon";

/** A person with two live OAuth sessions (two clients) and a real access token for each. */
async function personWithSessions() {
  const person = await signedUpPerson();
  const sessions = await Promise.all(
    ["client-a", "client-b"].map(async (clientId) => {
      const issued = await issueSession(person.stub, { clientId });
      const token = await signAccessToken(env, ORIGIN, RESOURCE, { sub: person.accountId, sid: issued.sessionId, client_id: clientId, scope: "account:read" });
      return { ...issued, token };
    }),
  );
  return { ...person, sessions };
}

const change = (ticket: string, current: string, next: string) =>
  call("/account/password", form({ ticket, username: "ignored", current_password: current, new_password: next }));

describe("password change revokes every session of the account", () => {
  it("records PasswordChanged, revokes both sessions, and their JWTs fail at the very next /mcp request", async () => {
    const person = await personWithSessions();
    for (const s of person.sessions) expect((await mcpTool(s.token, "whoami")).status).toBe(200);
    const { ticket } = await openSecurity(person.email);
    const res = await change(ticket, PASSWORD, NEW_PASSWORD);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("2 application sessions were signed out");
    for (const s of person.sessions) {
      expect((await mcpTool(s.token, "whoami")).status).toBe(401);
      expect(await person.stub.refresh({ refreshToken: s.refreshToken, clientId: s.clientId, scopes: null }, meta())).toEqual({ ok: false, reason: "session_not_live" });
    }
    const events = (await allEvents(person.stub)).map((e) => e.data);
    const tail = events.slice(events.findIndex((e) => e._tag === "PasswordChanged"));
    expect(tail.map((e) => e._tag)).toEqual(["PasswordChanged", "SessionRevoked", "SessionRevoked"]);
    expect(tail.filter((e) => e._tag === "SessionRevoked").map((e) => e._tag === "SessionRevoked" && e.reason)).toEqual(["password_changed", "password_changed"]);
  });

  it("the old password stops working and the new one works", async () => {
    const person = await signedUpPerson();
    const { ticket } = await openSecurity(person.email);
    expect((await change(ticket, PASSWORD, NEW_PASSWORD)).status).toBe(200);
    expect((await call("/account/security", form({ email: person.email, password: PASSWORD }))).status).toBe(401);
    expect((await call("/account/security", form({ email: person.email, password: NEW_PASSWORD }))).status).toBe(200);
  });

  it("a security-page ticket from before the change no longer stands", async () => {
    const person = await signedUpPerson();
    const { ticket: other } = await openSecurity(person.email);
    const { ticket } = await openSecurity(person.email);
    expect((await change(ticket, PASSWORD, NEW_PASSWORD)).status).toBe(200);
    expect((await change(other, NEW_PASSWORD, "another-Strong-99-phrase")).status).toBe(400);
  });

  it("with MFA on, the page needs the second factor before the change is offered", async () => {
    const person = await signedUpPerson();
    const { seed } = await enroll(person.email);
    const passwordOnly = await call("/account/security", form({ email: person.email, password: PASSWORD }));
    expect(await passwordOnly.text()).not.toContain('name="new_password"');
    const { ticket } = await openSecurity(person.email, PASSWORD, await codeAt(seed, 1));
    expect((await change(ticket, PASSWORD, NEW_PASSWORD)).status).toBe(200);
  });
});

describe("a refused change changes nothing", () => {
  it("a new password that breaks the policy is refused with the reason; sessions live, old password works", async () => {
    const person = await personWithSessions();
    const { ticket } = await openSecurity(person.email);
    for (const weak of ["short", "password1234", person.email.split("@")[0] + "-and-more"]) {
      const res = await change(ticket, PASSWORD, weak);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('role="alert"');
    }
    for (const s of person.sessions) expect((await mcpTool(s.token, "whoami")).status).toBe(200);
    expect((await allEvents(person.stub)).some((e) => e.type === "PasswordChanged")).toBe(false);
    expect((await call("/account/security", form({ email: person.email, password: PASSWORD }))).status).toBe(200);
  });

  it("a wrong current password is a counted failure; the hash, the sessions and the password stay", async () => {
    const person = await personWithSessions();
    const { ticket } = await openSecurity(person.email);
    const hashBefore = await person.stub.passwordHash();
    const res = await change(ticket, "not-the-Password-1", NEW_PASSWORD);
    expect(res.status).toBe(401);
    expect(await person.stub.passwordHash()).toEqual(hashBefore);
    const last = (await allEvents(person.stub)).at(-1)!.data;
    expect(last).toEqual({ _tag: "LoginFailed", reason: "invalid_password", failedAttempts: 1 });
    for (const s of person.sessions) expect((await mcpTool(s.token, "whoami")).status).toBe(200);
    expect((await call("/account/security", form({ email: person.email, password: NEW_PASSWORD }))).status).toBe(401);
  });

  it("a racing change (the hash changed after it was checked) decides nothing", async () => {
    const person = await signedUpPerson();
    const stored = (await person.stub.passwordHash())!;
    const result = await person.stub.changePassword({ currentMatches: true, verifiedHash: "a-different-hash", newHash: stored, keepSessionId: null }, meta());
    expect(result).toMatchObject({ ok: false, error: "Stale" });
    expect((await allEvents(person.stub)).some((e) => e.type === "PasswordChanged")).toBe(false);
  });
});

describe("a change takes effect at its commit: a sign-in racing it never outlives it", () => {
  it("a password checked against the hash the change replaced is recorded as wrong, not as a sign-in", async () => {
    const person = await personWithSessions();
    const before = await person.stub.passwordHash(); // what a racing sign-in verified against
    const { ticket } = await openSecurity(person.email);
    expect((await change(ticket, PASSWORD, NEW_PASSWORD)).status).toBe(200);
    const racing = await person.stub.recordLogin(true, null, meta(), before!.hash);
    expect(racing.ok && racing.events.map((e) => e.data._tag)).toEqual(["LoginFailed"]);
    const current = await person.stub.passwordHash();
    const honest = await person.stub.recordLogin(true, null, meta(), current!.hash);
    expect(honest.ok && honest.events.map((e) => e.data._tag)).toEqual(["LoginSucceeded"]);
  });

  it("PasswordChanged is stamped when it commits, after the scrypt work its request began with", async () => {
    const person = await personWithSessions();
    const { ticket } = await openSecurity(person.email);
    expect((await change(ticket, PASSWORD, NEW_PASSWORD)).status).toBe(200);
    const stored = (await allEvents(person.stub)).find((e) => e.data._tag === "PasswordChanged")!;
    // metadata.at is when the request began; two scrypt runs (check the current password, hash
    // the new one) lie between it and the commit, so a sign-in begun in between is older.
    expect(stored.data._tag === "PasswordChanged" && stored.data.at).toBeGreaterThan(stored.metadata.at);
  });
});
