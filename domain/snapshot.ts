// Snapshot codec for AccountState: plain JSON, versioned. A snapshot is a cache of a fold;
// it never changes what a replay yields (property-tested). Bump STATE_VERSION whenever
// AccountState's shape or evolve's meaning changes: older snapshots are then ignored and
// the state is rebuilt by full replay (and re-snapshotted).

import type { AccountState, SessionState } from "./account.ts";
import type { Role } from "./roles.ts";

/**
 * v2: lockedUntil (lockout). v3: mfaEnabled, recoveryCodesRemaining, passwordChangedAt, each session's amr.
 * v4: a session leaves state once its expiry is recorded (no `expired` flag); v3 snapshots still
 * hold expired sessions a replay would drop, so they are ignored and rebuilt.
 */
export const STATE_VERSION = 4;

interface EncodedState {
  readonly accountId: string | null;
  readonly email: string | null;
  readonly roles: ReadonlyArray<Role>;
  readonly roleExpiries: ReadonlyArray<readonly [Role, number]>;
  readonly closed: boolean;
  readonly consents: ReadonlyArray<readonly [string, ReadonlyArray<string>]>;
  readonly sessions: ReadonlyArray<SessionState>;
  readonly consecutiveFailedLogins: number;
  readonly lockedUntil: number | null;
  readonly mfaEnabled: boolean;
  readonly recoveryCodesRemaining: number;
  readonly passwordChangedAt: number | null;
  /** Absent in snapshots written before service accounts existed: null is then exact. */
  readonly service?: AccountState["service"];
}

export const encodeState = (state: AccountState): string =>
  JSON.stringify({
    accountId: state.accountId,
    email: state.email,
    roles: state.roles,
    roleExpiries: [...state.roleExpiries],
    closed: state.closed,
    consents: [...state.consents],
    sessions: [...state.sessions.values()],
    consecutiveFailedLogins: state.consecutiveFailedLogins,
    lockedUntil: state.lockedUntil,
    mfaEnabled: state.mfaEnabled,
    recoveryCodesRemaining: state.recoveryCodesRemaining,
    passwordChangedAt: state.passwordChangedAt,
    service: state.service,
  } satisfies EncodedState);

export const decodeState = (json: string): AccountState => {
  const s = JSON.parse(json) as EncodedState;
  return {
    accountId: s.accountId,
    email: s.email,
    roles: s.roles,
    roleExpiries: new Map(s.roleExpiries),
    closed: s.closed,
    consents: new Map(s.consents),
    sessions: new Map(s.sessions.map((session) => [session.sessionId, { ...session, amr: session.amr ?? ["pwd"] }])),
    consecutiveFailedLogins: s.consecutiveFailedLogins,
    lockedUntil: s.lockedUntil,
    // v2 snapshots are never read (Snapshots.latest filters on STATE_VERSION); the defaults
    // only guard a hand-made or partial v3 row: no MFA and ["pwd"] are what v2 states meant.
    mfaEnabled: s.mfaEnabled ?? false,
    recoveryCodesRemaining: s.recoveryCodesRemaining ?? 0,
    passwordChangedAt: s.passwordChangedAt ?? null,
    service: s.service ?? null,
  };
};
