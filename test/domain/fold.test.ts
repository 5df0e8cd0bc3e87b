// Properties of the decider over random command sequences drawn from small pools of ids,
// scopes and times, so that sequences collide (same session, stale generations, expiries).

import { Result } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide, evolve, fold, initialState, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import { PERMISSIONS, ROLES } from "../../domain/roles.ts";

const ERROR_TAGS = [
  "AccountNotFound", "AccountAlreadyRegistered", "RoleAlreadyHeld", "ConsentMissing",
  "SessionNotLive", "SessionAlreadyStarted", "StaleRefresh",
];

const client = fc.constantFrom("c1", "c2");
const session = fc.constantFrom("s1", "s2", "s3");
const scopes = fc.subarray(["read", "write"]);
const time = fc.integer({ min: 0, max: 10 }).map((t) => t * 100);
/** Expiries are drawn after `at`, so sessions start live and expire later in the sequence. */
const expiring = <C extends { at: number; expiresAt: number }>(c: C): C => ({ ...c, expiresAt: c.at + c.expiresAt });
const weighted = (weight: number, arbitrary: fc.Arbitrary<AccountCommand>) => ({ weight, arbitrary });

/** Weighted so that consents and sessions are common enough to reach refresh and tool paths. */
const command: fc.Arbitrary<AccountCommand> = fc.oneof(
  fc.record({
    _tag: fc.constant("RegisterAccount"),
    accountId: fc.constantFrom("a1", "a2"),
    email: fc.constantFrom("x@e", "y@e"),
  }),
  fc.record({ _tag: fc.constant("GrantRole"), role: fc.constantFrom(...ROLES), reason: fc.constant("test"), expiresAt: fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: null }) }),
  fc.record({ _tag: fc.constant("ExpireDue"), at: fc.integer({ min: 0, max: 3_000 }) }),
  fc.record({ _tag: fc.constant("CloseAccount"), reason: fc.constant("test") }),
  fc.record({ _tag: fc.constant("RecordLogin"), passwordMatches: fc.boolean(), clientId: fc.option(client) }),
  weighted(3, fc.record({
    _tag: fc.constant("GrantConsent"),
    clientId: client,
    clientName: fc.constant("C"),
    redirectHost: fc.constant("c.example"),
    scopes,
  })),
  fc.record({ _tag: fc.constant("DenyConsent"), clientId: client, scopes }),
  weighted(4, fc.record({
    _tag: fc.constant("StartSession"),
    sessionId: session,
    clientId: client,
    scopes,
    resource: fc.constant("https://r"),
    expiresAt: time,
    at: time,
  }).map(expiring)),
  weighted(3, fc.record({
    _tag: fc.constant("RefreshSession"),
    sessionId: session,
    generation: fc.nat(2),
    expiresAt: time,
    at: time,
  }).map(expiring)),
  fc.record({
    _tag: fc.constant("RevokeSession"),
    sessionId: session,
    reason: fc.constantFrom("refresh_token_reused", "user_request", "authorization_code_reused"),
  }),
  weighted(3, fc.record({
    _tag: fc.constant("InvokeTool"),
    tool: fc.constant("t"),
    sessionId: session,
    permission: fc.constantFrom(...PERMISSIONS),
    requiredScope: fc.constantFrom("read", "write", "admin"),
    at: time,
  })),
);

/** Four in five sequences start registered, so most commands get past AccountNotFound. */
const commands = fc
  .tuple(fc.nat(4).map((n) => n > 0), fc.array(command, { maxLength: 40, size: "medium" }))
  .map(([registered, rest]): AccountCommand[] =>
    registered ? [{ _tag: "RegisterAccount", accountId: "a1", email: "x@e" }, ...rest] : rest,
  );

interface Step {
  readonly command: AccountCommand;
  readonly before: AccountState;
  readonly emitted: ReadonlyArray<AccountEvent>;
}

/** Runs decide then evolve command by command, keeping only the successful decisions' events. */
const run = (cmds: ReadonlyArray<AccountCommand>) => {
  let state = initialState;
  const steps: Step[] = [];
  for (const c of cmds) {
    const decision = decide(c, state);
    const emitted = Result.isSuccess(decision) ? decision.success : [];
    steps.push({ command: c, before: state, emitted });
    for (const e of emitted) state = evolve(state, e);
  }
  return { state, steps, events: steps.flatMap((s) => s.emitted) };
};

describe("the account decider over random command sequences", () => {
  it("ends in the same state stepwise as folding every emitted event from the start", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state, events } = run(cmds);
      expect(fold(events)).toEqual(state);
    })));

  it("never throws: every decision is an event list or a typed refusal", () =>
    fc.assert(fc.property(commands, (cmds) => {
      let state = initialState;
      for (const c of cmds) {
        const decision = decide(c, state);
        if (Result.isSuccess(decision)) state = fold(decision.success, state);
        else expect(ERROR_TAGS).toContain(decision.failure._tag);
      }
    })));

  it("evolve never mutates the state it is given", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { before, emitted } of run(cmds).steps) {
        const snapshot = structuredClone(before);
        fold(emitted, before);
        expect(before).toEqual(snapshot);
      }
    })));

  it("emits nothing when an idempotent command is retried right after it succeeded", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const idempotent = ["RegisterAccount", "GrantRole", "GrantConsent", "StartSession", "RevokeSession"];
      for (const { command: c, before, emitted } of run(cmds).steps) {
        if (!idempotent.includes(c._tag) || Result.isFailure(decide(c, before))) continue;
        const retry = decide(c, fold(emitted, before));
        expect(Result.isSuccess(retry) && retry.success).toEqual([]);
      }
    })));

  it("counts failed logins since the last successful one", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state, events } = run(cmds);
      const lastSuccess = events.findLastIndex((e) => e._tag === "LoginSucceeded");
      const failures = events.slice(lastSuccess + 1).filter((e) => e._tag === "LoginFailed").length;
      expect(state.consecutiveFailedLogins).toBe(failures);
    })));

  it("never lowers a session's generation nor un-revokes it", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { before, emitted } of run(cmds).steps) {
        const after = fold(emitted, before);
        for (const [id, was] of before.sessions) {
          const now = after.sessions.get(id);
          expect(now?.generation).toBeGreaterThanOrEqual(was.generation);
          if (was.revoked) expect(now?.revoked).toBe(true);
        }
      }
    })));
});
