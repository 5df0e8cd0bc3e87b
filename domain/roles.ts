// Roles and the permissions they carry. Pure data: the MCP permission check and the
// inline projection both read from here, so there is one answer to "may this account do X".

import { Schema } from "effect";

/** Lowest to highest; each role holds every permission of the roles below it. */
export const ROLES = ["member", "auditor", "operator", "admin", "owner"] as const;
export const Role = Schema.Literals(ROLES);
export type Role = typeof Role.Type;

export const PERMISSIONS = [
  "account.read_self",
  "events.read_self",
  "sessions.manage_self",
  "audit.read",
  "accounts.read",
  "accounts.lock",
  "roles.grant",
  "roles.grant_admin",
  "clients.manage",
] as const;
export const Permission = Schema.Literals(PERMISSIONS);
export type Permission = typeof Permission.Type;

/** What each role adds on top of the role below it. */
const ADDED_BY_ROLE: Record<Role, ReadonlyArray<Permission>> = {
  member: ["account.read_self", "events.read_self", "sessions.manage_self"],
  auditor: ["audit.read"],
  operator: ["accounts.read", "accounts.lock"],
  // Registering OAuth clients and service accounts hands out credentials: admins and owners only.
  admin: ["roles.grant", "clients.manage"],
  owner: ["roles.grant_admin"],
};

export const roleRank = (role: Role): number => ROLES.indexOf(role);

export const permissionsOfRole = (role: Role): ReadonlySet<Permission> =>
  new Set(ROLES.slice(0, roleRank(role) + 1).flatMap((r) => ADDED_BY_ROLE[r]));

/**
 * Permissions only a person exercises, whatever a service account's roles say. Handing out
 * credentials or roles from a machine would let one leaked client secret mint further
 * credentials that outlive disabling it (a child client, an admin granted to someone): the
 * machine's whole reach must end with its own client. So a service account never holds these.
 */
export const PERSON_ONLY: ReadonlySet<Permission> = new Set<Permission>(["roles.grant", "roles.grant_admin", "clients.manage"]);

/** Who holds the roles: a person, or a service account (which never holds PERSON_ONLY). */
export type Holder = "person" | "service";

export const permissionsOf = (roles: Iterable<Role>, holder: Holder = "person"): ReadonlySet<Permission> => {
  const all = new Set<Permission>();
  for (const role of roles) for (const p of permissionsOfRole(role)) if (holder === "person" || !PERSON_ONLY.has(p)) all.add(p);
  return all;
};

/**
 * A grantor hands out no role above their own highest one: an admin may create an auditor or
 * an admin service account, never an owner (the same ceiling as granting a person a role).
 */
export const mayAssign = (grantorRoles: Iterable<Role>, role: Role): boolean =>
  Math.max(-1, ...[...grantorRoles].map(roleRank)) >= roleRank(role);

/**
 * The highest role a service account may hold. Owner adds only `roles.grant_admin`, which a
 * service account never holds (PERSON_ONLY): an owner-level machine would gain nothing but the
 * appearance of the top role in the directory and on its tokens' holder, and any future owner
 * permission should not reach a machine by default.
 */
export const SERVICE_ROLE_CEILING: Role = "admin";

/** A role a grantor may give a service account: within their own reach and below owner. */
export const mayAssignToService = (grantorRoles: Iterable<Role>, role: Role): boolean =>
  mayAssign(grantorRoles, role) && roleRank(role) <= roleRank(SERVICE_ROLE_CEILING);

/** Highest role first, for display. */
export const sortRoles = (roles: Iterable<Role>): Role[] =>
  [...new Set(roles)].sort((a, b) => roleRank(b) - roleRank(a));
