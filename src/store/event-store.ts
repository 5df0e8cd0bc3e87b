// The account's append-only event log in Durable Object SQLite.
//
// Layout (see ARCHITECTURE.md "Storage"):
//   events(seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE, type, version, data JSON,
//          metadata JSON, prev_hash, hash)
// `seq` is contiguous from 1. `hash` = SHA-256 over prev_hash and the canonical JSON of the
// row, so editing, deleting or reordering any row breaks every later link (verifyChain).
// All methods are synchronous: callers decide and append without yielding the event loop.

import { sha256Hex } from "../crypto.ts";
import {
  decodeEvent,
  EVENT_VERSIONS,
  type AccountEvent,
  type EventMetadata,
  type StoredEvent,
} from "../../domain/events.ts";
import { upcast } from "../../domain/upcasters.ts";

/**
 * What the appender believes the log's head is (EventStoreDB's expected version):
 * `exact` — the head must be this seq; `none` — the stream must not exist yet; `any` — no check.
 */
export type ExpectedVersion = { readonly kind: "exact"; readonly seq: number } | { readonly kind: "none" } | { readonly kind: "any" };

export class WrongExpectedVersion extends Error {
  constructor(readonly expected: ExpectedVersion, readonly actual: number) {
    super(`wrong expected version: expected ${expected.kind === "exact" ? expected.seq : expected.kind}, log is at ${actual}`);
  }
}

export const GENESIS_HASH = "0".repeat(64);

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  event_id: string;
  type: string;
  version: number;
  data: string;
  metadata: string;
  prev_hash: string;
  hash: string;
}

/** The exact bytes the chain commits to; key order is fixed by construction. */
const chainInput = (prevHash: string, row: Omit<EventRow, "hash" | "prev_hash">): string =>
  prevHash +
  JSON.stringify([row.seq, row.event_id, row.type, row.version, row.data, row.metadata]);

/** Rows are read as the current shape: older versions pass through their upcasters. */
const toStored = (row: EventRow): StoredEvent => ({
  seq: row.seq,
  eventId: row.event_id,
  type: row.type as StoredEvent["type"],
  version: row.version,
  data: decodeEvent(upcast(row.type as StoredEvent["type"], row.version, JSON.parse(row.data))),
  metadata: JSON.parse(row.metadata) as EventMetadata,
  prevHash: row.prev_hash,
  hash: row.hash,
});

export class EventStore {
  /** The tables come from the account's migrations (src/store/account-schema.ts). */
  constructor(private readonly sql: SqlStorage) {}

  head(): { seq: number; hash: string } {
    const row = this.sql.exec<{ seq: number; hash: string }>(
      "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
    ).toArray()[0];
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Appends at the head if `expected` holds, else throws WrongExpectedVersion and writes nothing. */
  append(
    events: ReadonlyArray<AccountEvent>,
    metadata: EventMetadata,
    newEventId: () => string,
    expected: ExpectedVersion,
  ): StoredEvent[] {
    let { seq, hash } = this.head();
    const holds = expected.kind === "any" || (expected.kind === "none" ? seq === 0 : seq === expected.seq);
    if (!holds) throw new WrongExpectedVersion(expected, seq);
    const stored: StoredEvent[] = [];
    const metadataJson = JSON.stringify(metadata);
    for (const event of events) {
      seq += 1;
      const row = {
        seq,
        event_id: newEventId(),
        type: event._tag,
        version: EVENT_VERSIONS[event._tag],
        data: JSON.stringify(event),
        metadata: metadataJson,
      };
      const next = sha256Hex(chainInput(hash, row));
      this.sql.exec(
        "INSERT INTO events (seq, event_id, type, version, data, metadata, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        row.seq, row.event_id, row.type, row.version, row.data, row.metadata, hash, next,
      );
      stored.push({ seq, eventId: row.event_id, type: row.type, version: row.version, data: event, metadata, prevHash: hash, hash: next });
      hash = next;
    }
    return stored;
  }

  /**
   * Every event in order, each checked against the chain as it is read (used to fold state
   * on wake-up): a row that was edited, removed or reordered stops the replay with
   * ChainBroken, so a tampered log can never become state.
   */
  *all(): Generator<StoredEvent> {
    yield* this.from({ seq: 0, hash: GENESIS_HASH });
  }

  /** Like all(), from just after a known (seq, hash) — the head a snapshot was taken at. */
  *from(after: { seq: number; hash: string }): Generator<StoredEvent> {
    let expectedPrev = after.hash;
    let expectedSeq = after.seq + 1;
    for (const row of this.sql.exec<EventRow>("SELECT * FROM events WHERE seq > ? ORDER BY seq", after.seq)) {
      if (!linkHolds(row, expectedPrev, expectedSeq)) throw new ChainBroken(row.seq);
      yield toStored(row);
      expectedPrev = row.hash;
      expectedSeq += 1;
    }
  }

  /** Oldest first, strictly after `afterSeq`, at most `limit` (outbox delivery). */
  after(afterSeq: number, limit: number): StoredEvent[] {
    return this.sql
      .exec<EventRow>("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", afterSeq, limit)
      .toArray()
      .map(toStored);
  }

  /** Newest first, strictly before `beforeSeq` (a cursor), at most `limit`. */
  page(beforeSeq: number | null, limit: number): StoredEvent[] {
    const rows =
      beforeSeq === null
        ? this.sql.exec<EventRow>("SELECT * FROM events ORDER BY seq DESC LIMIT ?", limit)
        : this.sql.exec<EventRow>(
            "SELECT * FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?", beforeSeq, limit,
          );
    return rows.toArray().map(toStored);
  }

  /** Recomputes the chain; returns the first seq whose link is broken, or the head if intact. */
  verifyChain(): { ok: true; head: string; count: number } | { ok: false; brokenAt: number } {
    let count = 0;
    let head = GENESIS_HASH;
    try {
      for (const event of this.all()) {
        count += 1;
        head = event.hash;
      }
    } catch (error) {
      if (error instanceof ChainBroken) return { ok: false, brokenAt: error.seq };
      throw error;
    }
    return { ok: true, head, count };
  }
}

export class ChainBroken extends Error {
  constructor(readonly seq: number) {
    super(`event log integrity check failed at seq ${seq}`);
  }
}

const linkHolds = (row: EventRow, expectedPrev: string, expectedSeq: number) =>
  row.seq === expectedSeq && row.prev_hash === expectedPrev && row.hash === sha256Hex(chainInput(expectedPrev, row));
