// domain/snapshot.ts: a snapshot is a cache of a fold. Encoding and decoding lose nothing, and
// replaying the rest of the log onto a snapshot taken at any point yields the same state as
// replaying the whole log, so a snapshot never changes what a replay yields.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fold, initialState, type AccountState } from "../../domain/account.ts";
import { decodeState, encodeState } from "../../domain/snapshot.ts";
import { commands, run } from "./arbitraries.ts";
import { SESSION, accountClosed, roleGranted, withLiveSession } from "./fixtures.ts";

const roundTrip = (state: AccountState): AccountState => decodeState(encodeState(state));

describe("snapshot codec", () => {
  it("round-trips the initial state", () => expect(roundTrip(initialState)).toEqual(initialState));

  it("round-trips a state with a session, a time-bound role and a closed flag", () => {
    const state = fold([...withLiveSession, roleGranted("operator", 1_500), accountClosed]);
    expect(roundTrip(state)).toEqual(state);
  });

  it("holds no session whose expiry was recorded (STATE_VERSION 4): a snapshot stays as small as the live state", () => {
    const state = fold([...withLiveSession, { _tag: "SessionExpired", sessionId: SESSION }]);
    expect(JSON.parse(encodeState(state)).sessions).toEqual([]);
  });

  it("encodes to a plain JSON string", () =>
    expect(() => JSON.parse(encodeState(fold(withLiveSession)))).not.toThrow());

  it("round-trips every state reached by a random command sequence", () =>
    fc.assert(fc.property(commands, (cmds) => {
      for (const { after } of run(cmds).steps) expect(roundTrip(after)).toEqual(after);
    })));

  it("encodes equal states to the same string (the snapshot is deterministic)", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state, events } = run(cmds);
      expect(encodeState(fold(events))).toBe(encodeState(state));
    })));

  it("keeps the order of roles and sessions, which replay would produce", () =>
    fc.assert(fc.property(commands, (cmds) => {
      const { state } = run(cmds);
      const decoded = roundTrip(state);
      expect(decoded.roles).toEqual(state.roles);
      expect([...decoded.sessions.keys()]).toEqual([...state.sessions.keys()]);
      expect([...decoded.roleExpiries.keys()]).toEqual([...state.roleExpiries.keys()]);
      expect([...decoded.consents.keys()]).toEqual([...state.consents.keys()]);
    })));
});

describe("replay from a snapshot", () => {
  const sequenceAndCut = commands.chain((cmds) => {
    const { events } = run(cmds);
    return fc.tuple(fc.constant(events), fc.nat(events.length));
  });

  it("folding the remaining events onto a snapshot taken at any point equals folding them all", () =>
    fc.assert(fc.property(sequenceAndCut, ([events, cut]) => {
      const snapshot = encodeState(fold(events.slice(0, cut)));
      expect(fold(events.slice(cut), decodeState(snapshot))).toEqual(fold(events));
    })));

  it("a snapshot of a replay from a snapshot encodes the same as a snapshot of the full replay", () =>
    fc.assert(fc.property(sequenceAndCut, ([events, cut]) => {
      const resumed = fold(events.slice(cut), roundTrip(fold(events.slice(0, cut))));
      expect(encodeState(resumed)).toBe(encodeState(fold(events)));
    })));
});
