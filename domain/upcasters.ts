// Upcasters: read an event stored with an older schema version as the current shape.
// Stored bytes never change (the hash chain covers them); only what a reader sees does.
// Add one entry per (type, old version) when a shape changes, and bump EVENT_VERSIONS.

import { EVENT_VERSIONS, type AccountEventType } from "./events.ts";

type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

/** UPCASTERS[type][v] turns version v into version v + 1. */
const UPCASTERS: Partial<Record<AccountEventType, Record<number, Upcaster>>> = {
  // v1 → v2: roles became time-bound; every v1 grant was permanent.
  RoleGranted: { 1: (data) => ({ ...data, expiresAt: null }) },
  // v1 → v2: sessions record how the person signed in (RFC 8176 amr); before MFA it was a password.
  SessionStarted: { 1: (data) => ({ ...data, amr: ["pwd"] }) },
};

export class UnknownEventVersion extends Error {
  constructor(readonly type: string, readonly version: number) {
    super(`no upcaster for ${type} v${version}`);
  }
}

export const upcast = (type: AccountEventType, version: number, data: Record<string, unknown>) => {
  const current = EVENT_VERSIONS[type];
  if (current === undefined) throw new UnknownEventVersion(type, version);
  let shaped = data;
  for (let v = version; v < current; v++) {
    const step = UPCASTERS[type]?.[v];
    if (!step) throw new UnknownEventVersion(type, v);
    shaped = step(shaped);
  }
  if (version > current) throw new UnknownEventVersion(type, version);
  return shaped;
};
