// Time-bound roles and expiries: GrantRole with expiresAt, ExpireDue, activeRoles, nextDueAt.
// A time-bound role or a session stops counting at its expiry instant, whether or not the
// alarm (ExpireDue) has recorded it yet; ExpireDue only writes down what time already decided.

import { describe, expect, it } from "vitest";
import { activeRoles, nextDueAt, sessionProblem } from "../../domain/account.ts";
import type { AccountEvent } from "../../domain/events.ts";
import {
  EXPIRES, NOW, SCOPES, SESSION, accountClosed, expireDue, grantRole, invoke, refresh,
  registered, roleGranted, sessionStarted, withLiveSession,
} from "./fixtures.ts";
import { given } from "./given-when-then.ts";

/** A role expiry before the session's (EXPIRES), so tools can still be invoked after it. */
const ROLE_EXPIRES = 1_500;
const sessionExpired: AccountEvent = { _tag: "SessionExpired", sessionId: SESSION };
const roleExpired = (role: "operator" | "auditor" | "admin"): AccountEvent => ({ _tag: "RoleExpired", role });
const revoked: AccountEvent = { _tag: "SessionRevoked", sessionId: SESSION, reason: "user_request" };
const refreshed = (expiresAt: number): AccountEvent => ({ _tag: "TokenRefreshed", sessionId: SESSION, generation: 1, expiresAt });
const toolOutcome = (outcome: "allowed" | "denied"): AccountEvent => ({
  _tag: "ToolInvoked", tool: "whoami", sessionId: SESSION, permission: "accounts.read", outcome,
  reason: outcome === "allowed" ? null : "missing permission accounts.read",
});

describe("GrantRole with an expiry", () => {
  it("grants a role the account does not hold until the given time", () =>
    given(...registered).when(grantRole("operator", ROLE_EXPIRES)).then(roleGranted("operator", ROLE_EXPIRES)));
  it("emits when it extends a time-bound role to a later expiry", () =>
    given(...registered, roleGranted("operator", ROLE_EXPIRES))
      .when(grantRole("operator", ROLE_EXPIRES + 1))
      .then(roleGranted("operator", ROLE_EXPIRES + 1)));
  it("emits when it makes a time-bound role permanent", () =>
    given(...registered, roleGranted("operator", ROLE_EXPIRES)).when(grantRole("operator")).then(roleGranted("operator")));
  it("emits again for a role whose expiry was already recorded", () =>
    given(...registered, roleGranted("operator", ROLE_EXPIRES), roleExpired("operator"))
      .when(grantRole("operator", EXPIRES))
      .then(roleGranted("operator", EXPIRES)));
  it("refuses on an unregistered account", () => void given().when(grantRole("operator", ROLE_EXPIRES)).thenFails("AccountNotFound"));
  it("refuses on a closed account", () =>
    void given(...registered, accountClosed).when(grantRole("operator", ROLE_EXPIRES)).thenFails("AccountClosed"));
  it("stays quiet when the role is held permanently", () =>
    given(...registered, roleGranted("operator")).when(grantRole("operator", ROLE_EXPIRES)).thenNothing());
  it("stays quiet when the role is held until the same time", () =>
    given(...registered, roleGranted("operator", ROLE_EXPIRES)).when(grantRole("operator", ROLE_EXPIRES)).thenNothing());
  it("stays quiet when the role is held until later", () =>
    given(...registered, roleGranted("operator", ROLE_EXPIRES)).when(grantRole("operator", NOW)).thenNothing());
  it("keeps the latest expiry in the state, and none once the role is permanent", () => {
    const extended = given(...registered, roleGranted("operator", NOW), roleGranted("operator", ROLE_EXPIRES)).state;
    expect(extended.roleExpiries.get("operator")).toBe(ROLE_EXPIRES);
    expect(extended.roles.filter((r) => r === "operator")).toHaveLength(1);
    expect(given(...registered, roleGranted("operator", NOW), roleGranted("operator")).state.roleExpiries.has("operator"))
      .toBe(false);
  });
});

describe("ExpireDue", () => {
  it("records a session whose expiry has come (expiresAt == at counts as due)", () =>
    given(...withLiveSession).when(expireDue(EXPIRES)).then(sessionExpired));
  it("records a time-bound role whose expiry has come", () =>
    given(...registered, roleGranted("operator", ROLE_EXPIRES)).when(expireDue(ROLE_EXPIRES)).then(roleExpired("operator")));
  it("records every due session and role at once, sessions first", () =>
    given(...withLiveSession, roleGranted("operator", ROLE_EXPIRES), roleGranted("auditor", EXPIRES + 1))
      .when(expireDue(EXPIRES))
      .then(sessionExpired, roleExpired("operator")));
  it("refuses on an unregistered account", () => void given().when(expireDue()).thenFails("AccountNotFound"));
  it("stays quiet when nothing is due yet (one instant before each expiry)", () =>
    given(...withLiveSession, roleGranted("operator", EXPIRES)).when(expireDue(EXPIRES - 1)).thenNothing());
  it("stays quiet when run twice: what it recorded is not due again", () =>
    given(...withLiveSession, roleGranted("operator", ROLE_EXPIRES), sessionExpired, roleExpired("operator"))
      .when(expireDue(EXPIRES + 1_000))
      .thenNothing());
  it("records a revoked session past its expiry too (that is what removes it from state)", () =>
    given(...withLiveSession, revoked).when(expireDue(EXPIRES)).then(sessionExpired));
  it("stays quiet for a revoked session before its expiry", () =>
    given(...withLiveSession, revoked).when(expireDue(EXPIRES - 1)).thenNothing());
  it("stays quiet when run twice over a revoked session: its recorded expiry removed it", () =>
    given(...withLiveSession, revoked, sessionExpired).when(expireDue(EXPIRES + 1_000)).thenNothing());
  it("stays quiet for a session refreshed past the time", () =>
    given(...withLiveSession, refreshed(EXPIRES + 1_000)).when(expireDue(EXPIRES)).thenNothing());
  it("never expires a permanent role", () =>
    given(...registered, roleGranted("admin")).when(expireDue(Number.MAX_SAFE_INTEGER)).thenNothing());
  it("stays quiet on a closed account even with expiries due", () =>
    given(...withLiveSession, roleGranted("operator", ROLE_EXPIRES), accountClosed).when(expireDue(EXPIRES)).thenNothing());
  it("drops an expired role from the roles held and from the expiries", () => {
    const state = given(...registered, roleGranted("operator", ROLE_EXPIRES), roleExpired("operator")).state;
    expect(state.roles).toEqual(["member"]);
    expect(state.roleExpiries.size).toBe(0);
  });
  it("leaves a recorded session dead even when asked about an earlier time (it is gone: unknown)", () => {
    const state = given(...withLiveSession, sessionExpired).state;
    expect(sessionProblem(state, SESSION, NOW)).toBe("unknown");
    expect(given(...withLiveSession, sessionExpired).when(refresh(0)).thenFails("SessionNotLive").reason).toBe("unknown");
  });
});

describe("activeRoles", () => {
  const operatorUntil = given(...registered, roleGranted("operator", ROLE_EXPIRES)).state;
  it("counts a time-bound role until the instant before its expiry", () =>
    expect(activeRoles(operatorUntil, ROLE_EXPIRES - 1)).toEqual(["member", "operator"]));
  it("stops counting a time-bound role at its expiry, before ExpireDue has run", () =>
    expect(activeRoles(operatorUntil, ROLE_EXPIRES)).toEqual(["member"]));
  it("counts a permanent role at any time", () =>
    expect(activeRoles(given(...registered, roleGranted("operator")).state, Number.MAX_SAFE_INTEGER))
      .toEqual(["member", "operator"]));
  it("counts a role made permanent past its former expiry", () =>
    expect(activeRoles(given(...registered, roleGranted("operator", NOW), roleGranted("operator")).state, EXPIRES))
      .toEqual(["member", "operator"]));
});

describe("InvokeTool with a time-bound role", () => {
  const withOperatorUntil = [...withLiveSession, roleGranted("operator", ROLE_EXPIRES)];
  it("allows the role's permission the instant before it expires", () =>
    given(...withOperatorUntil).when(invoke("accounts.read", "tools:read", ROLE_EXPIRES - 1)).then(toolOutcome("allowed")));
  it("denies the role's permission from its expiry on, though ExpireDue has not run", () =>
    given(...withOperatorUntil).when(invoke("accounts.read", "tools:read", ROLE_EXPIRES)).then(toolOutcome("denied")));
  it("denies the role's permission after ExpireDue recorded the expiry", () =>
    given(...withOperatorUntil, roleExpired("operator")).when(invoke("accounts.read")).then(toolOutcome("denied")));
});

describe("nextDueAt", () => {
  it("is null for an account that was never registered", () => expect(nextDueAt(given().state)).toBeNull());
  it("is null when nothing is pending (member is permanent)", () =>
    expect(nextDueAt(given(...registered, roleGranted("admin")).state)).toBeNull());
  it("is a live session's expiry", () => expect(nextDueAt(given(...withLiveSession).state)).toBe(EXPIRES));
  it("is a time-bound role's expiry", () =>
    expect(nextDueAt(given(...registered, roleGranted("operator", ROLE_EXPIRES)).state)).toBe(ROLE_EXPIRES));
  it("is the earliest expiry when a role falls due before the session", () =>
    expect(nextDueAt(given(...withLiveSession, roleGranted("operator", ROLE_EXPIRES)).state)).toBe(ROLE_EXPIRES));
  it("is the earliest expiry when the session falls due before a role", () =>
    expect(nextDueAt(given(...withLiveSession, roleGranted("operator", EXPIRES + 500)).state)).toBe(EXPIRES));
  it("is the earliest across several sessions", () =>
    expect(nextDueAt(given(...withLiveSession, { ...sessionStarted(SCOPES, "s-2"), expiresAt: NOW + 1 } as AccountEvent).state))
      .toBe(NOW + 1));
  it("follows a refreshed session's new expiry", () =>
    expect(nextDueAt(given(...withLiveSession, refreshed(EXPIRES + 1_000)).state)).toBe(EXPIRES + 1_000));
  it("counts a revoked session's expiry (recording it removes the session) and ignores recorded expiries", () => {
    expect(nextDueAt(given(...withLiveSession, revoked).state)).toBe(EXPIRES);
    expect(nextDueAt(given(...withLiveSession, sessionExpired).state)).toBeNull();
    expect(nextDueAt(given(...withLiveSession, revoked, sessionExpired).state)).toBeNull();
  });
  it("moves on to the next expiry once ExpireDue recorded the earliest", () =>
    expect(nextDueAt(given(...withLiveSession, roleGranted("operator", ROLE_EXPIRES), roleExpired("operator")).state))
      .toBe(EXPIRES));
  it("is null once the account is closed, even with a live session and a time-bound role", () =>
    expect(nextDueAt(given(...withLiveSession, roleGranted("operator", ROLE_EXPIRES), accountClosed).state)).toBeNull());
});
