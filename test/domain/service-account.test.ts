// Decider specs for service accounts (client_credentials, RFC 6749 §4.4): RegisterServiceAccount
// emits, refuses, stays quiet; a service account's own client starts sessions without consent,
// within the scopes it was registered with; nobody signs in as it or consents for it.

import { describe, expect, it } from "vitest";
import { sessionProblem } from "../../domain/account.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { mayAssign } from "../../domain/roles.ts";
import { ACCOUNT, CLIENT, EXPIRES, NOW, OTHER_CLIENT, RESOURCE, SESSION, accountClosed, grantConsent, invoke, register, type Command } from "./fixtures.ts";
import { given } from "./given-when-then.ts";

const SERVICE_SCOPES = ["audit:read", "account:read"];
const registerService = (overrides: Partial<Command<"RegisterServiceAccount">> = {}): Command<"RegisterServiceAccount"> => ({
  _tag: "RegisterServiceAccount",
  accountId: ACCOUNT,
  name: "compliance exporter",
  clientId: CLIENT,
  scopes: SERVICE_SCOPES,
  roles: ["auditor"],
  grantorRoles: ["member", "admin"],
  ...overrides,
});
const serviceRegistered: AccountEvent = { _tag: "ServiceAccountRegistered", accountId: ACCOUNT, name: "compliance exporter", clientId: CLIENT, scopes: SERVICE_SCOPES };
const member: AccountEvent = { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null };
const auditor: AccountEvent = { _tag: "RoleGranted", role: "auditor", reason: "service account compliance exporter", expiresAt: null };
const service = [serviceRegistered, member, auditor];
/** What the token endpoint asks for a client_credentials token: no person authenticated (amr empty). */
const startSession = (scopes: ReadonlyArray<string>, clientId = CLIENT): Command<"StartSession"> => ({
  _tag: "StartSession", sessionId: SESSION, clientId, scopes, resource: RESOURCE, expiresAt: EXPIRES, at: NOW, amr: [],
});

describe("RegisterServiceAccount", () => {
  it("registers a service account bound to its client and scopes, with member and the roles asked for", () =>
    given().when(registerService()).then(...service));
  it("grants each role once and member only once", () =>
    given().when(registerService({ roles: ["auditor", "member", "auditor"] })).then(...service));
  it("may grant the grantor's own highest role", () =>
    given().when(registerService({ roles: ["admin"] })).then(serviceRegistered, member, { ...auditor, role: "admin" }));
  it("refuses a role above the grantor's highest role, and grants nothing", () => {
    const error = given().when(registerService({ roles: ["auditor", "owner"] })).thenFails("RoleAboveGrantor");
    expect(error.role).toBe("owner");
  });
  it("refuses any role to a grantor with none", () => void given().when(registerService({ grantorRoles: [] })).thenFails("RoleAboveGrantor"));
  it("stays quiet on an identical retry", () => given(...service).when(registerService()).thenNothing());
  it("refuses to turn a person's account into a service account", () =>
    void given({ _tag: "AccountRegistered", accountId: ACCOUNT, email: "ada@example.com" }).when(registerService()).thenFails("AccountAlreadyRegistered"));
  it("refuses to re-bind a service account to another client", () =>
    void given(...service).when(registerService({ clientId: OTHER_CLIENT })).thenFails("AccountAlreadyRegistered"));
  it("refuses on a closed account", () => void given(...service, accountClosed).when(registerService()).thenFails("AccountClosed"));
  it("a person cannot register over a service account", () => void given(...service).when(register).thenFails("AccountAlreadyRegistered"));
});

describe("RFC 6749 §4.4: a service account's sessions", () => {
  it("its own client starts a session without consent, within the registered scopes", () =>
    given(...service).when(startSession(["audit:read"])).then({
      _tag: "SessionStarted", sessionId: SESSION, clientId: CLIENT, scopes: ["audit:read"], resource: RESOURCE, expiresAt: EXPIRES, amr: [],
    }));
  it("refuses scopes the operator did not register", () =>
    void given(...service).when(startSession(["audit:read", "accounts:read"])).thenFails("ConsentMissing"));
  it("refuses a session for any other client", () => void given(...service).when(startSession(["audit:read"], OTHER_CLIENT)).thenFails("ConsentMissing"));
  it("a tool call is decided by the service account's own roles", () => {
    const started = [...service, { _tag: "SessionStarted", sessionId: SESSION, clientId: CLIENT, scopes: ["audit:read"], resource: "r", expiresAt: EXPIRES, amr: [] } as AccountEvent];
    given(...started).when(invoke("audit.read", "audit:read")).then({ _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission: "audit.read", outcome: "allowed", reason: null });
    given(...started).when(invoke("accounts.read", "audit:read")).then({
      _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission: "accounts.read", outcome: "denied", reason: "missing permission accounts.read",
    });
  });
  it("closing the service account ends its sessions at once", () => {
    const started: AccountEvent = { _tag: "SessionStarted", sessionId: SESSION, clientId: CLIENT, scopes: ["audit:read"], resource: "r", expiresAt: EXPIRES, amr: [] };
    expect(sessionProblem(given(...service, started).state, SESSION, NOW)).toBeNull();
    expect(sessionProblem(given(...service, started, accountClosed).state, SESSION, NOW)).toBe("revoked");
  });
});

describe("a service account has no person behind it", () => {
  it("refuses a sign-in", () =>
    void given(...service).when({ _tag: "RecordLogin", passwordMatches: true, clientId: null, at: NOW }).thenFails("AccountNotFound"));
  it("refuses a consent", () => void given(...service).when(grantConsent(["audit:read"], OTHER_CLIENT)).thenFails("AccountNotFound"));
  it("keeps no email", () => expect(given(...service).state).toMatchObject({ email: null, service: { clientId: CLIENT, scopes: SERVICE_SCOPES } }));
});

describe("mayAssign: no role above the grantor's highest", () => {
  it("allows roles up to and including the highest held", () => {
    expect(mayAssign(["member", "admin"], "admin")).toBe(true);
    expect(mayAssign(["admin"], "auditor")).toBe(true);
    expect(mayAssign(["owner"], "owner")).toBe(true);
  });
  it("refuses roles above it, and everything to a grantor with no role", () => {
    expect(mayAssign(["member", "admin"], "owner")).toBe(false);
    expect(mayAssign([], "member")).toBe(false);
  });
});
