// Properties of the decider over random command sequences (see arbitraries.ts for the pools).

import { Result } from "effect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  activeRoles, decide, fold, initialState, nextDueAt, sessionProblem, type AccountState,
} from "../../domain/account.ts";
import type { AccountCommand, AccountCommandType } from "../../domain/commands.ts";
import type { AccountError } from "../../domain/errors.ts";
import { commands, run, time } from "./arbitraries.ts";

/** Every typed refusal; the Record makes tsc fail here when AccountError gains a member. */
const ERROR_TAGS: Record<AccountError["_tag"], true> = {
  AccountNotFound: true, AccountAlreadyRegistered: true, AccountClosed: true, ConsentMissing: true,
  SessionNotLive: true, SessionAlreadyStarted: true, StaleRefresh: true, RoleAboveGrantor: true,
  MfaNotEnabled: true, MfaAlreadyEnabled: true, NotForServiceAccount: true, CredentialsChanged: true,
};

/** Commands whose immediate retry must be a no-op; the others record every attempt. */
const IDEMPOTENT: Record<AccountCommandType, boolean> = {
  RegisterAccount: true, RegisterServiceAccount: true, GrantRole: true, ExpireDue: true, CloseAccount: true, GrantConsent: true,
  StartSession: true, RevokeSession: true, RevokeConsent: true, UnlockAccount: true,
  RecordLogin: false, DenyConsent: false, RefreshSession: false, InvokeTool: false,
  // Every second-factor attempt and password change is recorded; enabling twice is refused.
  EnableMfa: false, VerifySecondFactor: false, DisableMfa: false, RegenerateRecoveryCodes: false, ChangePassword: false,
  // Each registration or disabling an operator does is its own record (the edge keys retries).
  RecordClientRegistered: false, RecordClientDisabled: false,
};

/** Times at which liveness is probed: the command grid plus the far ends. */
const PROBES = [0, 500, 1_000, 1_500, 2_000, 3_000, Number.MAX_SAFE_INTEGER];
const expireDue = (at: number): AccountCommand => ({ _tag: "ExpireDue", at });
const emits = (command: AccountCommand, state: AccountState) => {
  const decision = decide(command, state);
  return Result.isSuccess(decision) ? decision.success : expect.unreachable(`${command._tag} was refused`);
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
        else expect(Object.keys(ERROR_TAGS)).toContain(decision.failure._tag);
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
      for (const { command: c, before, after } of run(cmds).steps) {
        if (!IDEMPOTENT[c._tag] || Result.isFailure(decide(c, before))) continue;
        const retry = decide(c, after);
        expect(Result.isSuccess(retry) && retry.success, `${c._tag} retried`).toEqual([]);
      }
    })));

  it("counts wrong-password and wrong-second-factor failures since the last success or operator unlock (refusals while locked do not count)", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state, events } = run(cmds);
      const lastReset = events.findLastIndex(
        (e) => e._tag === "LoginSucceeded" || (e._tag === "AccountUnlocked" && e.reason === "operator"),
      );
      const failures = events.slice(lastReset + 1).filter((e) => e._tag === "LoginFailed" && e.reason !== "account_locked").length;
      expect(state.consecutiveFailedLogins).toBe(failures);
    })));

  it("never lowers a session's generation, un-revokes it, or reopens an account; a session leaves state only by its recorded SessionExpired", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { before, emitted, after } of run(cmds).steps) {
        if (before.closed) expect(after.closed).toBe(true);
        for (const [id, was] of before.sessions) {
          const now = after.sessions.get(id);
          if (now === undefined) {
            expect(emitted).toContainEqual({ _tag: "SessionExpired", sessionId: id });
            continue;
          }
          expect(now.generation).toBeGreaterThanOrEqual(was.generation);
          if (was.revoked) expect(now.revoked).toBe(true);
        }
      }
    })));
});

describe("a closed account over random command sequences", () => {
  it("refuses every command with AccountClosed except ExpireDue and CloseAccount, which stay quiet", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { command: c, before } of run(cmds).steps) {
        if (!before.closed) continue;
        const decision = decide(c, before);
        if (c._tag === "ExpireDue" || c._tag === "CloseAccount") expect(decision).toEqual(Result.succeed([]));
        else expect(Result.isFailure(decision) && decision.failure._tag).toBe("AccountClosed");
      }
    })));

  it("has no live session at any time", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state } = run(cmds);
      if (!state.closed) return;
      for (const id of state.sessions.keys()) for (const at of PROBES) expect(sessionProblem(state, id, at)).not.toBeNull();
    })));
});

describe("expiries over random command sequences", () => {
  it("ExpireDue at t leaves nothing due at or before t", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { command: c, after } of run(cmds).steps) {
        if (c._tag !== "ExpireDue") continue;
        const next = nextDueAt(after);
        if (next !== null) expect(next).toBeGreaterThan(c.at);
      }
    })));

  it("ExpireDue at t changes neither the roles in force nor which sessions are live at t", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { command: c, before, after } of run(cmds).steps) {
        if (c._tag !== "ExpireDue") continue;
        expect(activeRoles(after, c.at)).toEqual(activeRoles(before, c.at));
        for (const id of before.sessions.keys()) {
          expect(sessionProblem(after, id, c.at) === null).toBe(sessionProblem(before, id, c.at) === null);
        }
      }
    })));

  it("nextDueAt is the earliest time at which ExpireDue emits anything", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state } = run(cmds);
      if (state.accountId === null) return;
      const next = nextDueAt(state);
      if (next === null) {
        expect(emits(expireDue(Number.MAX_SAFE_INTEGER), state)).toEqual([]);
      } else {
        expect(emits(expireDue(next - 1), state)).toEqual([]);
        expect(emits(expireDue(next), state).length).toBeGreaterThan(0);
      }
    })));

  it("a registered account always holds member in force, and only roles it holds", () =>
    fc.assert(fc.property(commands, time, (cmds, at) => {
      const { state } = run(cmds);
      if (state.accountId === null) return;
      const active = activeRoles(state, at);
      expect(active).toContain("member");
      for (const role of active) expect(state.roles).toContain(role);
    })));
});
