// Emmett-style decider specs: given(...events).when(command).then(...events) / .thenFails(tag) /
// .thenNothing(). The given events are folded with evolve from initialState, the command is
// decided against that state, and the outcome is asserted with vitest's expect.

import { Result } from "effect";
import { expect } from "vitest";
import { decide, fold, type AccountState, type Decision } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountError } from "../../domain/errors.ts";
import type { AccountEvent } from "../../domain/events.ts";

export interface Outcome {
  /** Asserts the command emitted exactly these events, in this order. */
  readonly then: (...expected: ReadonlyArray<AccountEvent>) => void;
  /** Asserts the command was refused with this typed failure; returns it for further checks. */
  readonly thenFails: <Tag extends AccountError["_tag"]>(tag: Tag) => Extract<AccountError, { _tag: Tag }>;
  /** Asserts the command succeeded without emitting anything (an idempotent no-op). */
  readonly thenNothing: () => void;
  /** The raw decision, for specs that need more than the three assertions above. */
  readonly decision: Decision;
}

const describeDecision = (decision: Decision): string =>
  Result.isSuccess(decision)
    ? `emitted [${decision.success.map((e) => e._tag).join(", ")}]`
    : `failed with ${decision.failure._tag}`;

const emitted = (decision: Decision): ReadonlyArray<AccountEvent> => {
  if (Result.isFailure(decision)) {
    expect.unreachable(`expected the command to succeed, but it ${describeDecision(decision)}`);
  }
  return decision.success;
};

export const given = (...events: ReadonlyArray<AccountEvent>) => {
  const state: AccountState = fold(events);
  return {
    state,
    when: (command: AccountCommand): Outcome => {
      const decision = decide(command, state);
      return {
        decision,
        then: (...expected) => expect(emitted(decision)).toEqual(expected),
        thenNothing: () => expect(emitted(decision)).toEqual([]),
        thenFails: (tag) => {
          if (Result.isSuccess(decision)) {
            expect.unreachable(`expected ${tag}, but the command ${describeDecision(decision)}`);
          }
          expect(decision.failure._tag).toBe(tag);
          return decision.failure as Extract<AccountError, { _tag: typeof tag }>;
        },
      };
    },
  };
};
