// The role hierarchy in domain/roles.ts: member < auditor < operator < admin < owner.

import { describe, expect, it } from "vitest";
import {
  PERMISSIONS, ROLES, permissionsOf, permissionsOfRole, roleRank, sortRoles, type Role,
} from "../../domain/roles.ts";

const lowerAndHigher = ROLES.flatMap((lower, i) => ROLES.slice(i + 1).map((higher) => [lower, higher] as const));

describe("role hierarchy", () => {
  it("ranks roles from member (lowest) to owner (highest)", () => {
    expect(ROLES.map(roleRank)).toEqual([0, 1, 2, 3, 4]);
    expect(roleRank("member")).toBeLessThan(roleRank("owner"));
  });

  it.each(lowerAndHigher)("%s's permissions are all held by %s", (lower, higher) => {
    const higherHolds = permissionsOfRole(higher);
    for (const p of permissionsOfRole(lower)) expect(higherHolds.has(p), `${higher} lacks ${p}`).toBe(true);
  });

  it.each(lowerAndHigher)("%s holds strictly fewer permissions than %s", (lower, higher) =>
    expect(permissionsOfRole(lower).size).toBeLessThan(permissionsOfRole(higher).size));

  it("gives the owner every permission", () =>
    expect([...permissionsOfRole("owner")].sort()).toEqual([...PERMISSIONS].sort()));

  it("gives a member only the self permissions", () =>
    expect([...permissionsOfRole("member")].sort()).toEqual(["account.read_self", "events.read_self", "sessions.manage_self"]));

  it.each([
    ["auditor", "audit.read", "accounts.read"],
    ["operator", "accounts.lock", "roles.grant"],
    ["admin", "roles.grant", "roles.grant_admin"],
  ] as const)("gives %s %s but not %s", (role, held, notHeld) => {
    expect(permissionsOfRole(role).has(held)).toBe(true);
    expect(permissionsOfRole(role).has(notHeld)).toBe(false);
  });

  it("reserves granting admin to the owner alone", () =>
    expect(ROLES.filter((r) => permissionsOfRole(r).has("roles.grant_admin"))).toEqual(["owner"]));
});

describe("permissionsOf", () => {
  it("grants nothing to an account with no roles", () => expect(permissionsOf([]).size).toBe(0));

  it("is the union of each held role's permissions", () => {
    const roles: Role[] = ["member", "auditor"];
    expect(permissionsOf(roles)).toEqual(new Set([...permissionsOfRole("member"), ...permissionsOfRole("auditor")]));
  });

  it("equals the highest role's permissions alone, since lower roles add nothing new", () =>
    expect(permissionsOf(["member", "operator", "auditor"])).toEqual(permissionsOfRole("operator")));
});

describe("sortRoles", () => {
  it("orders roles highest first and drops duplicates", () =>
    expect(sortRoles(["member", "owner", "auditor", "member"])).toEqual(["owner", "auditor", "member"]));
});
