// Decider specs for service accounts (client_credentials, RFC 6749 §4.4): RegisterServiceAccount
// emits, refuses, stays quiet; a service account's own client starts sessions without consent,
// within the scopes it was registered with; nobody signs in as it or consents for it.

import { describe, expect, it } from "vitest";
import { sessionProblem } from "../../domain/account.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { mayAssign, mayAssignToService, PERSON_ONLY, permissionsOf } from "../../domain/roles.ts";
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

describe("a service account's reach ends with its own client (no person-only permission, roles below owner)", () => {
  it("given an owner grantor, when an owner service account is asked for, then it is refused and nothing is granted", () => {
    const error = given().when(registerService({ roles: ["owner"], grantorRoles: ["member", "owner"] })).thenFails("NotForServiceAccount");
    expect(error.what).toMatch(/role owner/);
  });
  it("given an owner grantor, when an admin service account is asked for, then it is registered (admin is the ceiling)", () =>
    given().when(registerService({ roles: ["admin"], grantorRoles: ["owner"] })).then(serviceRegistered, member, { ...auditor, role: "admin" }));
  it("given any grantor, when the scope clients:manage is asked for, then it is refused: managing clients is a person's act", () => {
    const error = given().when(registerService({ roles: ["admin"], scopes: ["account:read", "clients:manage"], grantorRoles: ["owner"] })).thenFails("NotForServiceAccount");
    expect(error.what).toMatch(/scope clients:manage/);
  });
  it("given an admin service account whose session carries clients:manage (registered before this rule), when it calls a clients.manage tool, then the call is denied as a person's act", () => {
    const legacy: AccountEvent[] = [
      { ...serviceRegistered, scopes: ["clients:manage"] }, member, { ...auditor, role: "admin" },
      { _tag: "SessionStarted", sessionId: SESSION, clientId: CLIENT, scopes: ["clients:manage"], resource: RESOURCE, expiresAt: EXPIRES, amr: [] },
    ];
    given(...legacy).when(invoke("clients.manage", "clients:manage")).then({
      _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission: "clients.manage", outcome: "denied",
      reason: "clients.manage is a person's act; a service account never holds it",
    });
  });
  it("given a person with the same admin role and scope, when they call the same tool, then it is allowed", () =>
    given(
      { _tag: "AccountRegistered", accountId: ACCOUNT, email: "ada@example.com" }, member, { ...auditor, role: "admin" },
      { _tag: "ConsentGranted", clientId: CLIENT, clientName: "C", redirectHost: "c.example", scopes: ["clients:manage"] },
      { _tag: "SessionStarted", sessionId: SESSION, clientId: CLIENT, scopes: ["clients:manage"], resource: RESOURCE, expiresAt: EXPIRES, amr: ["pwd"] },
    ).when(invoke("clients.manage", "clients:manage")).then({
      _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission: "clients.manage", outcome: "allowed", reason: null,
    }));
  it("given a service account, when it would record a client registration or disabling, then it is refused", () => {
    given(...service).when({ _tag: "RecordClientRegistered", clientId: OTHER_CLIENT, kind: "service", clientName: "child", grantTypes: ["client_credentials"], scopes: ["account:read"], serviceAccountId: "svc-child" })
      .thenFails("NotForServiceAccount");
    given(...service).when({ _tag: "RecordClientDisabled", clientId: OTHER_CLIENT, kind: "operator", serviceAccountId: null }).thenFails("NotForServiceAccount");
  });
  it("a service account holds no person-only permission, whatever its roles: admin or owner reaches no further than operator", () => {
    for (const role of ["admin", "owner"] as const) {
      const held = permissionsOf([role], "service");
      for (const p of PERSON_ONLY) expect(held.has(p), `${role} ${p}`).toBe(false);
      expect([...held].sort()).toEqual([...permissionsOf(["operator"], "service")].sort());
    }
    expect(permissionsOf(["admin"]).has("clients.manage")).toBe(true);
  });
  it("mayAssignToService: within the grantor's reach and never above admin", () => {
    expect(mayAssignToService(["owner"], "admin")).toBe(true);
    expect(mayAssignToService(["owner"], "owner")).toBe(false);
    expect(mayAssignToService(["admin"], "owner")).toBe(false);
    expect(mayAssignToService(["operator"], "admin")).toBe(false);
  });
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
