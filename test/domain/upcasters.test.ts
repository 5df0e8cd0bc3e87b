// domain/upcasters.ts: events stored under an older schema version are read as the current
// shape; stored bytes never change. Each (type, old version) gets a spec from the old shape.

import { describe, expect, it } from "vitest";
import { decodeEvent, EVENT_VERSIONS, type AccountEventType } from "../../domain/events.ts";
import { UnknownEventVersion, upcast } from "../../domain/upcasters.ts";

/** RoleGranted as written before roles became time-bound (schema v1). */
const roleGrantedV1 = { _tag: "RoleGranted", role: "admin", reason: "ADMIN_EMAILS" };

describe("RoleGranted v1 → v2", () => {
  it("upcasts a v1 grant (no expiresAt) to a permanent v2 grant", () =>
    expect(upcast("RoleGranted", 1, roleGrantedV1)).toEqual({ ...roleGrantedV1, expiresAt: null }));

  it("decodes the upcast v1 grant with the current AccountEvent schema", () =>
    expect(decodeEvent(upcast("RoleGranted", 1, roleGrantedV1))).toEqual({
      _tag: "RoleGranted", role: "admin", reason: "ADMIN_EMAILS", expiresAt: null,
    }));

  it("is needed: the current schema rejects a v1 grant read as is", () =>
    expect(() => decodeEvent(roleGrantedV1)).toThrow());

  it("does not modify the stored data it is given", () => {
    const stored = { ...roleGrantedV1 };
    upcast("RoleGranted", 1, stored);
    expect(stored).toEqual(roleGrantedV1);
  });

  it("passes a current v2 grant through unchanged, time-bound or permanent", () => {
    for (const expiresAt of [null, 1_500]) {
      const v2 = { ...roleGrantedV1, expiresAt };
      expect(upcast("RoleGranted", 2, v2)).toEqual(v2);
      expect(decodeEvent(upcast("RoleGranted", 2, v2))).toEqual(v2);
    }
  });
});

/** SessionStarted as written before sessions recorded how the person signed in (schema v1). */
const sessionStartedV1 = { _tag: "SessionStarted", sessionId: "s-1", clientId: "c", scopes: ["account:read"], resource: "https://r/mcp", expiresAt: 9 };

describe("SessionStarted v1 → v2 (RFC 8176 amr)", () => {
  it("upcasts a v1 session to amr [\"pwd\"]: before MFA every sign-in was a password", () =>
    expect(upcast("SessionStarted", 1, sessionStartedV1)).toEqual({ ...sessionStartedV1, amr: ["pwd"] }));

  it("decodes the upcast v1 session with the current AccountEvent schema", () =>
    expect(decodeEvent(upcast("SessionStarted", 1, sessionStartedV1))).toEqual({ ...sessionStartedV1, amr: ["pwd"] }));

  it("is needed: the current schema rejects a v1 session read as is", () =>
    expect(() => decodeEvent(sessionStartedV1)).toThrow());

  it("passes a v2 session through unchanged, one or two factors", () => {
    for (const amr of [["pwd"], ["pwd", "otp"], []]) {
      const v2 = { ...sessionStartedV1, amr };
      expect(decodeEvent(upcast("SessionStarted", 2, v2))).toEqual(v2);
    }
  });
});

describe("upcast", () => {
  it("passes every event type at its current version through unchanged", () => {
    const data = { _tag: "X", some: "field" };
    for (const [type, version] of Object.entries(EVENT_VERSIONS) as [AccountEventType, number][]) {
      expect(upcast(type, version, data), type).toEqual(data);
    }
  });

  it("throws UnknownEventVersion for a version newer than this code knows (written by a later deploy)", () => {
    const read = () => upcast("RoleGranted", EVENT_VERSIONS.RoleGranted + 1, { ...roleGrantedV1, expiresAt: null });
    expect(read).toThrow(UnknownEventVersion);
    expect(read).toThrow(/RoleGranted v3/);
  });

  it("throws UnknownEventVersion for a future version of a type that never changed shape", () =>
    expect(() => upcast("SessionRevoked", 2, {})).toThrow(UnknownEventVersion));

  it("throws UnknownEventVersion for a version below any upcaster", () => {
    try {
      upcast("RoleGranted", 0, roleGrantedV1);
      expect.unreachable("upcast accepted v0");
    } catch (error) {
      expect(error).toBeInstanceOf(UnknownEventVersion);
      expect(error).toMatchObject({ type: "RoleGranted", version: 0 });
    }
  });

  it("has an upcaster for every old version of every type up to its current one", () => {
    for (const [type, version] of Object.entries(EVENT_VERSIONS) as [AccountEventType, number][]) {
      for (let v = 1; v < version; v++) expect(() => upcast(type, v, { _tag: type }), `${type} v${v}`).not.toThrow();
    }
  });
});
