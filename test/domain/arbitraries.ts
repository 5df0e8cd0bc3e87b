// Random command sequences for the property specs (fold.test.ts, snapshot.test.ts), drawn from
// small pools of ids, scopes and times so that sequences collide: same session, stale
// generations, and expiries that land exactly on the time a later command runs.

import { Result } from "effect";
import fc from "fast-check";
import { decide, evolve, initialState, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { PERMISSIONS, ROLES } from "../../domain/roles.ts";

const client = fc.constantFrom("c1", "c2");
const session = fc.constantFrom("s1", "s2", "s3");
const scopes = fc.subarray(["read", "write"]);
/** One clock for every command: 0..1000 in steps of 100, so `at`s and expiries coincide often. */
export const time = fc.integer({ min: 0, max: 10 }).map((t) => t * 100);
/** Expiry times on the same grid, reaching past every `at` (up to 2000). */
const expiry = fc.integer({ min: 0, max: 20 }).map((t) => t * 100);
/** Expiries are drawn after `at`, so sessions start live and expire later in the sequence. */
const expiring = <C extends { at: number; expiresAt: number }>(c: C): C => ({ ...c, expiresAt: c.at + c.expiresAt });
const secondFactor = fc.record({ method: fc.constantFrom("totp" as const, "recovery_code" as const), verified: fc.boolean() });
const weighted = (weight: number, arbitrary: fc.Arbitrary<AccountCommand>) => ({ weight, arbitrary });

/**
 * Weighted so that consents and sessions are common enough to reach refresh and tool paths,
 * and CloseAccount rare enough (about 1 in 120) that most sequences run a while before closing.
 */
export const command: fc.Arbitrary<AccountCommand> = fc.oneof(
  weighted(4, fc.record({
    _tag: fc.constant("RegisterAccount"),
    accountId: fc.constantFrom("a1", "a2"),
    email: fc.constantFrom("x@e", "y@e"),
  })),
  weighted(2, fc.record({
    _tag: fc.constant("RegisterServiceAccount"),
    accountId: fc.constantFrom("a1", "a2"),
    name: fc.constant("svc"),
    clientId: client,
    scopes,
    roles: fc.subarray([...ROLES]),
    grantorRoles: fc.subarray([...ROLES]),
  })),
  weighted(6, fc.record({
    _tag: fc.constant("GrantRole"),
    role: fc.constantFrom(...ROLES),
    reason: fc.constant("test"),
    expiresAt: fc.option(expiry, { nil: null, freq: 3 }),
  })),
  weighted(6, fc.record({ _tag: fc.constant("ExpireDue"), at: expiry })),
  weighted(1, fc.record({ _tag: fc.constant("CloseAccount"), reason: fc.constantFrom("user_request", "abuse") })),
  weighted(6, fc.record({ _tag: fc.constant("RecordLogin"), passwordMatches: fc.boolean(), clientId: fc.option(client, { nil: null }), at: expiry })),
  weighted(1, fc.record({ _tag: fc.constant("UnlockAccount"), reason: fc.constant("test") })),
  weighted(12, fc.record({
    _tag: fc.constant("GrantConsent"),
    clientId: client,
    clientName: fc.constant("C"),
    redirectHost: fc.constant("c.example"),
    scopes,
  })),
  weighted(4, fc.record({ _tag: fc.constant("DenyConsent"), clientId: client, scopes })),
  weighted(2, fc.record({ _tag: fc.constant("RevokeConsent"), clientId: client })),
  weighted(16, fc.record({
    _tag: fc.constant("StartSession"),
    sessionId: session,
    clientId: client,
    scopes,
    resource: fc.constant("https://r"),
    expiresAt: time,
    at: time,
    amr: fc.constantFrom(["pwd"] as const, ["pwd", "otp"] as const),
  }).map(expiring)),
  weighted(12, fc.record({
    _tag: fc.constant("RefreshSession"),
    sessionId: session,
    generation: fc.nat(2),
    expiresAt: time,
    at: time,
  }).map(expiring)),
  // Second factor and password change (domain/mfa.ts): enrollment common enough that the
  // second-factor paths, their lockout and recovery-code counts are reached often.
  weighted(3, fc.record({ _tag: fc.constant("EnableMfa"), recoveryCodes: fc.constantFrom(2, 10), at: expiry })),
  weighted(6, fc.record({ _tag: fc.constant("VerifySecondFactor"), proof: secondFactor, clientId: fc.option(client, { nil: null }), at: expiry })),
  weighted(1, fc.record({ _tag: fc.constant("DisableMfa"), proof: secondFactor, at: expiry })),
  weighted(1, fc.record({ _tag: fc.constant("RegenerateRecoveryCodes"), proof: secondFactor, count: fc.constant(10), at: expiry })),
  weighted(2, fc.record({ _tag: fc.constant("ChangePassword"), currentPasswordMatches: fc.boolean(), keepSessionId: fc.option(session, { nil: null }), at: time })),
  weighted(4, fc.record({
    _tag: fc.constant("RevokeSession"),
    sessionId: session,
    reason: fc.constantFrom("refresh_token_reused", "user_request", "authorization_code_reused"),
  })),
  weighted(12, fc.record({
    _tag: fc.constant("InvokeTool"),
    tool: fc.constant("t"),
    sessionId: session,
    permission: fc.constantFrom(...PERMISSIONS),
    requiredScope: fc.constantFrom("read", "write", "admin"),
    at: time,
  })),
  weighted(1, fc.record({
    _tag: fc.constant("RecordClientRegistered"), clientId: client, kind: fc.constantFrom("operator", "service", "resource_server"),
    clientName: fc.constant("C"), grantTypes: fc.constant(["client_credentials"]), scopes, serviceAccountId: fc.option(fc.constant("svc-1"), { nil: null }),
  })),
  weighted(1, fc.record({ _tag: fc.constant("RecordClientDisabled"), clientId: client, kind: fc.constantFrom("dynamic", "operator", "service"), serviceAccountId: fc.constant(null) })),
);

const REGISTER: AccountCommand = { _tag: "RegisterAccount", accountId: "a1", email: "x@e" };
const CONSENT: AccountCommand = {
  _tag: "GrantConsent", clientId: "c1", clientName: "C", redirectHost: "c.example", scopes: ["read", "write"],
};

/**
 * Four in five sequences start registered, so most commands get past AccountNotFound, and
 * three in four of those with c1's full consent, so sessions start and reach refresh and tools.
 */
export const commands = fc
  .tuple(fc.nat(4), fc.array(command, { maxLength: 40, size: "medium" }))
  .map(([prefix, rest]): AccountCommand[] =>
    prefix === 0 ? rest : prefix === 1 ? [REGISTER, ...rest] : [REGISTER, CONSENT, ...rest],
  );

export interface Step {
  readonly command: AccountCommand;
  readonly before: AccountState;
  readonly emitted: ReadonlyArray<AccountEvent>;
  readonly after: AccountState;
}

/** Runs decide then evolve command by command, keeping only the successful decisions' events. */
export const run = (cmds: ReadonlyArray<AccountCommand>) => {
  let state = initialState;
  const steps: Step[] = [];
  for (const c of cmds) {
    const decision = decide(c, state);
    const emitted = Result.isSuccess(decision) ? decision.success : [];
    const before = state;
    for (const e of emitted) state = evolve(state, e);
    steps.push({ command: c, before, emitted, after: state });
  }
  return { state, steps, events: steps.flatMap((s) => s.emitted) };
};
