// Decider specs for domain/account.ts: per command, it emits, it refuses, it stays quiet.

import { describe, expect, it } from "vitest";
import type { AccountCommand, AccountCommandType } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import {
  CLIENT, EXPIRES, NOW, OTHER_CLIENT, SCOPES, SESSION, consented, grantConsent,
  invoke, oneOfEach, refresh, register, registered, sessionStarted, startSession, withLiveSession,
} from "./fixtures.ts";
import { given } from "./given-when-then.ts";

const failedLogin = (failedAttempts: number): AccountEvent => ({
  _tag: "LoginFailed", reason: "invalid_password", failedAttempts,
});
const refreshed = (generation: number, expiresAt = NOW + 1_000): AccountEvent => ({
  _tag: "TokenRefreshed", sessionId: SESSION, generation, expiresAt,
});
const revoked: AccountEvent = { _tag: "SessionRevoked", sessionId: SESSION, reason: "user_request" };

describe("every command but RegisterAccount", () => {
  const tags: Record<AccountCommandType, true> = {
    RegisterAccount: true, RegisterServiceAccount: true, GrantRole: true, ExpireDue: true, CloseAccount: true, RecordLogin: true, GrantConsent: true, DenyConsent: true, RevokeConsent: true, UnlockAccount: true,
    StartSession: true, RefreshSession: true, RevokeSession: true, InvokeTool: true,
    EnableMfa: true, VerifySecondFactor: true, DisableMfa: true, RegenerateRecoveryCodes: true, ChangePassword: true,
    RecordClientRegistered: true, RecordClientDisabled: true,
  };
  it("has one sample per command type", () => {
    expect(oneOfEach.map((c) => c._tag).sort()).toEqual(Object.keys(tags).sort());
  });
  it.each(oneOfEach.filter((c) => c._tag !== "RegisterAccount" && c._tag !== "RegisterServiceAccount").map((c) => [c._tag, c] as const))(
    "%s is refused with AccountNotFound on an account that was never registered",
    (_, command) => void given().when(command).thenFails("AccountNotFound"),
  );
});

describe("RegisterAccount", () => {
  it("registers a new account with a password and the member role", () =>
    given().when(register).then(...registered));
  it("refuses a second registration with a different email", () => {
    const error = given(...registered)
      .when({ ...register, email: "eve@example.com" })
      .thenFails("AccountAlreadyRegistered");
    expect(error.email).toBe("eve@example.com");
  });
  it("refuses a second registration with a different account id", () =>
    void given(...registered).when({ ...register, accountId: "acc-other" }).thenFails("AccountAlreadyRegistered"));
  it("stays quiet on an identical retry", () => given(...registered).when(register).thenNothing());
});

describe("GrantRole", () => {
  const grant = { _tag: "GrantRole", role: "admin", reason: "ADMIN_EMAILS", expiresAt: null } as const;
  it("grants a role the account does not hold, with its reason", () =>
    given(...registered).when(grant).then({ _tag: "RoleGranted", role: "admin", reason: "ADMIN_EMAILS", expiresAt: null }));
  it("refuses on an unregistered account", () => void given().when(grant).thenFails("AccountNotFound"));
  it("stays quiet when the role is already held", () =>
    given(...registered, { _tag: "RoleGranted", role: "admin", reason: "x", expiresAt: null }).when(grant).thenNothing());
  it("stays quiet when granting member, which every account holds", () =>
    given(...registered).when({ ...grant, role: "member" }).thenNothing());
});

describe("RecordLogin", () => {
  // No quiet path: every login attempt is recorded, success or failure.
  const login = (passwordMatches: boolean, at = NOW) => ({ _tag: "RecordLogin", passwordMatches, clientId: CLIENT, at }) as const;
  it("records a successful login with its client", () =>
    given(...registered).when(login(true)).then({ _tag: "LoginSucceeded", clientId: CLIENT }));
  it("records a failed login as an event, not a refusal", () =>
    given(...registered).when(login(false)).then(failedLogin(1)));
  it("refuses on an unregistered account", () => void given().when(login(true)).thenFails("AccountNotFound"));
  it("counts consecutive failed logins", () =>
    given(...registered, failedLogin(1), failedLogin(2)).when(login(false)).then(failedLogin(3)));
  it("restarts the failed-login count after a success", () =>
    given(...registered, failedLogin(1), failedLogin(2), { _tag: "LoginSucceeded", clientId: null })
      .when(login(false))
      .then(failedLogin(1)));
  it("folds the consecutive-failure count and resets it on success", () => {
    expect(given(...registered, failedLogin(1), failedLogin(2)).state.consecutiveFailedLogins).toBe(2);
    const reset = given(...registered, failedLogin(1), { _tag: "LoginSucceeded", clientId: CLIENT });
    expect(reset.state.consecutiveFailedLogins).toBe(0);
  });
  it("locks the account for a minute on the 5th consecutive failure", () =>
    given(...registered, failedLogin(1), failedLogin(2), failedLogin(3), failedLogin(4)).when(login(false)).then(
      failedLogin(5),
      { _tag: "AccountLocked", until: NOW + 60_000, failedAttempts: 5 },
    ));
  it("doubles the lock on the 10th failure", () =>
    given(...registered, failedLogin(9)).when(login(false)).then(failedLogin(10), { _tag: "AccountLocked", until: NOW + 120_000, failedAttempts: 10 }));
  it("refuses every sign-in while locked, even with the right password, without counting it", () =>
    given(...registered, failedLogin(5), { _tag: "AccountLocked", until: NOW + 60_000, failedAttempts: 5 })
      .when(login(true, NOW + 59_999))
      .then({ _tag: "LoginFailed", reason: "account_locked", failedAttempts: 5 }));
  it("records the expired lock, then the success, once the lock has run out", () =>
    given(...registered, failedLogin(5), { _tag: "AccountLocked", until: NOW + 60_000, failedAttempts: 5 })
      .when(login(true, NOW + 60_000))
      .then({ _tag: "AccountUnlocked", reason: "expired" }, { _tag: "LoginSucceeded", clientId: CLIENT }));
});

describe("UnlockAccount", () => {
  const unlock = { _tag: "UnlockAccount", reason: "verified by phone" } as const;
  const locked = [...registered, failedLogin(5), { _tag: "AccountLocked", until: NOW + 60_000, failedAttempts: 5 } as const];
  it("lifts a lockout and clears the failure count", () => {
    const after = given(...locked).when(unlock);
    after.then({ _tag: "AccountUnlocked", reason: "operator" });
    expect(given(...locked, { _tag: "AccountUnlocked", reason: "operator" }).state).toMatchObject({ lockedUntil: null, consecutiveFailedLogins: 0 });
  });
  it("refuses on an unregistered account", () => void given().when(unlock).thenFails("AccountNotFound"));
  it("stays quiet when the account is not locked", () => given(...registered).when(unlock).thenNothing());
});

describe("GrantConsent", () => {
  it("records consent for scopes not yet granted", () => given(...registered).when(grantConsent()).then(consented()));
  it("records consent again when it widens the granted scopes", () =>
    given(...registered, consented(["tools:read"])).when(grantConsent()).then(consented()));
  it("refuses on an unregistered account", () => void given().when(grantConsent()).thenFails("AccountNotFound"));
  it("stays quiet when existing consent already covers the scopes", () =>
    given(...registered, consented()).when(grantConsent(["tools:read"])).thenNothing());
  it("does not let one client's consent cover another client", () =>
    given(...registered, consented()).when(grantConsent(SCOPES, OTHER_CLIENT)).then(consented(SCOPES, OTHER_CLIENT)));
  it("accumulates scopes across grants", () =>
    expect(given(...registered, consented(["a"]), consented(["b"])).state.consents.get(CLIENT)).toEqual(["a", "b"]));
});

describe("DenyConsent", () => {
  // No quiet path: every denial is recorded.
  const deny = { _tag: "DenyConsent", clientId: CLIENT, scopes: SCOPES } as const;
  it("records the denial", () =>
    given(...registered).when(deny).then({ _tag: "ConsentDenied", clientId: CLIENT, scopes: [...SCOPES] }));
  it("refuses on an unregistered account", () => void given().when(deny).thenFails("AccountNotFound"));
  it("records a repeated denial again", () =>
    given(...registered, { _tag: "ConsentDenied", clientId: CLIENT, scopes: [...SCOPES] })
      .when(deny)
      .then({ _tag: "ConsentDenied", clientId: CLIENT, scopes: [...SCOPES] }));
});

describe("RevokeConsent", () => {
  const revoke = { _tag: "RevokeConsent", clientId: CLIENT } as const;
  it("withdraws the consent and revokes the client's live sessions with it", () =>
    given(...withLiveSession).when(revoke).then(
      { _tag: "ConsentRevoked", clientId: CLIENT },
      { _tag: "SessionRevoked", sessionId: SESSION, reason: "consent_revoked" },
    ));
  it("leaves other clients' consents and sessions alone", () => {
    const after = given(...withLiveSession, consented(SCOPES, OTHER_CLIENT)).when({ _tag: "RevokeConsent", clientId: OTHER_CLIENT });
    after.then({ _tag: "ConsentRevoked", clientId: OTHER_CLIENT });
  });
  it("refuses on an unregistered account", () => void given().when(revoke).thenFails("AccountNotFound"));
  it("stays quiet when the client holds no consent (already withdrawn or never given)", () =>
    given(...withLiveSession, { _tag: "ConsentRevoked", clientId: CLIENT }).when(revoke).thenNothing());
  it("a withdrawn consent no longer lets the client start a session", () =>
    void given(...registered, consented(), { _tag: "ConsentRevoked", clientId: CLIENT }).when(startSession()).thenFails("ConsentMissing"));
});

describe("StartSession", () => {
  it("starts a session for consented scopes", () =>
    given(...registered, consented()).when(startSession()).then(sessionStarted()));
  it("starts a session for a subset of the consented scopes", () =>
    given(...registered, consented()).when(startSession(["tools:read"])).then(sessionStarted(["tools:read"])));
  it("refuses without any consent for the client", () =>
    void given(...registered).when(startSession()).thenFails("ConsentMissing"));
  it("refuses when consent does not cover every requested scope", () =>
    void given(...registered, consented(["tools:read"])).when(startSession()).thenFails("ConsentMissing"));
  it("refuses with consent given only to a different client", () =>
    void given(...registered, consented(SCOPES, OTHER_CLIENT)).when(startSession()).thenFails("ConsentMissing"));
  it("refuses reusing a session id for a different client", () =>
    void given(...withLiveSession, consented(SCOPES, OTHER_CLIENT))
      .when(startSession(SCOPES, OTHER_CLIENT))
      .thenFails("SessionAlreadyStarted"));
  it("stays quiet when the same client retries the same session", () =>
    given(...withLiveSession).when(startSession()).thenNothing());
  it("refuses to start a session whose expiresAt is not after at", () =>
    void given(...registered, consented())
      .when({ ...(startSession() as Extract<AccountCommand, { _tag: "StartSession" }>), at: EXPIRES })
      .thenFails("SessionNotLive"));
  it("starts every session at generation 0, unrevoked", () =>
    expect(given(...withLiveSession).state.sessions.get(SESSION)).toMatchObject({ generation: 0, revoked: false }));
});

describe("RefreshSession", () => {
  // No quiet path: a refresh either rotates the token or is refused.
  it("rotates to the next generation with the new expiry", () =>
    given(...withLiveSession).when(refresh(0)).then(refreshed(1)));
  it("rotates from the current generation after earlier refreshes", () =>
    given(...withLiveSession, refreshed(1), refreshed(2)).when(refresh(2)).then(refreshed(3)));
  it("refuses a refresh with a superseded generation", () => {
    const error = given(...withLiveSession, refreshed(1)).when(refresh(0)).thenFails("StaleRefresh");
    expect(error).toMatchObject({ sessionId: SESSION, expected: 1, presented: 0 });
  });
  it("refuses a refresh with a generation from the future", () =>
    void given(...withLiveSession).when(refresh(1)).thenFails("StaleRefresh"));
  it.each([
    ["unknown", [...registered, consented()], refresh(0)],
    ["revoked", [...withLiveSession, revoked], refresh(0)],
    ["expired", withLiveSession, refresh(0, EXPIRES)],
  ] as const)("refuses a refresh for a session that is %s", (reason, events, command) =>
    expect(given(...events).when(command).thenFails("SessionNotLive").reason).toBe(reason));
  it("keeps a refreshed session live past its original expiry", () =>
    given(...withLiveSession, refreshed(1, EXPIRES + 1_000))
      .when(refresh(1, EXPIRES))
      .then(refreshed(2, EXPIRES + 1_000)));
});

describe("RevokeSession", () => {
  const revoke = { _tag: "RevokeSession", sessionId: SESSION, reason: "user_request" } as const;
  it("revokes a live session", () => given(...withLiveSession).when(revoke).then(revoked));
  it("records why the session was revoked", () =>
    given(...withLiveSession)
      .when({ ...revoke, reason: "refresh_token_reused" })
      .then({ ...revoked, reason: "refresh_token_reused" }));
  it("refuses an unknown session", () =>
    expect(given(...registered).when(revoke).thenFails("SessionNotLive").reason).toBe("unknown"));
  it("stays quiet when the session is already revoked", () =>
    given(...withLiveSession, revoked).when(revoke).thenNothing());
});

describe("InvokeTool", () => {
  // No quiet path: every invocation on a live session is recorded, allowed or denied.
  const outcome = (permission: string, result: "allowed" | "denied", reason: string | null): AccountEvent => ({
    _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission, outcome: result, reason,
  });
  it("allows a member a self permission within the session's scopes", () =>
    given(...withLiveSession).when(invoke("account.read_self")).then(outcome("account.read_self", "allowed", null)));
  it("denies a member a tool needing accounts.read, naming the missing permission", () =>
    given(...withLiveSession)
      .when(invoke("accounts.read"))
      .then(outcome("accounts.read", "denied", "missing permission accounts.read")));
  it("allows an operator a tool needing accounts.read", () =>
    given(...withLiveSession, { _tag: "RoleGranted", role: "operator", reason: "x", expiresAt: null })
      .when(invoke("accounts.read"))
      .then(outcome("accounts.read", "allowed", null)));
  it("denies a tool whose scope the session was not granted, naming the scope", () =>
    given(...registered, consented(), sessionStarted(["tools:read"]))
      .when(invoke("account.read_self", "tools:write"))
      .then(outcome("account.read_self", "denied", "missing scope tools:write")));
  it("reports the missing permission first when both permission and scope are missing", () =>
    given(...withLiveSession)
      .when(invoke("accounts.read", "admin:all"))
      .then(outcome("accounts.read", "denied", "missing permission accounts.read")));
  it.each([
    ["unknown", [...registered], NOW],
    ["revoked", [...withLiveSession, revoked], NOW],
    ["expired", withLiveSession, EXPIRES],
  ] as const)("records an invocation on a session that is %s as denied, naming why", (reason, events, at) =>
    given(...events).when(invoke("account.read_self", "tools:read", at)).then(outcome("account.read_self", "denied", `session is ${reason}`)));
  it("treats a session as live until the instant before its expiry", () =>
    given(...withLiveSession)
      .when(invoke("account.read_self", "tools:read", EXPIRES - 1))
      .then(outcome("account.read_self", "allowed", null)));
});

