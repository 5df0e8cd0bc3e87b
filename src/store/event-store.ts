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

export const GENESIS_HASH = "0".repeat(64);

export const EVENT_TABLES = `
  CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
`;

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

const toStored = (row: EventRow): StoredEvent => ({
  seq: row.seq,
  eventId: row.event_id,
  type: row.type as StoredEvent["type"],
  version: row.version,
  data: decodeEvent(JSON.parse(row.data)),
  metadata: JSON.parse(row.metadata) as EventMetadata,
  prevHash: row.prev_hash,
  hash: row.hash,
});

export class EventStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(EVENT_TABLES);
  }

  head(): { seq: number; hash: string } {
    const row = this.sql.exec<{ seq: number; hash: string }>(
      "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
    ).toArray()[0];
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Appends after `expectedSeq`; the caller runs this inside a transaction. */
  append(
    events: ReadonlyArray<AccountEvent>,
    metadata: EventMetadata,
    newEventId: () => string,
    expectedSeq: number,
  ): StoredEvent[] {
    let { seq, hash } = this.head();
    if (seq !== expectedSeq) throw new Error(`event log moved: expected seq ${expectedSeq}, found ${seq}`);
    const stored: StoredEvent[] = [];
    for (const event of events) {
      seq += 1;
      const row = {
        seq,
        event_id: newEventId(),
        type: event._tag,
        version: EVENT_VERSIONS[event._tag],
        data: JSON.stringify(event),
        metadata: JSON.stringify(metadata),
      };
      const next = sha256Hex(chainInput(hash, row));
      this.sql.exec(
        "INSERT INTO events (seq, event_id, type, version, data, metadata, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
        row.seq, row.event_id, row.type, row.version, row.data, row.metadata, hash, next,
      );
      stored.push(toStored({ ...row, prev_hash: hash, hash: next }));
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
    let expectedPrev = GENESIS_HASH;
    let expectedSeq = 1;
    for (const row of this.sql.exec<EventRow>("SELECT * FROM events ORDER BY seq")) {
      if (!linkHolds(row, expectedPrev, expectedSeq)) throw new ChainBroken(row.seq);
      yield toStored(row);
      expectedPrev = row.hash;
      expectedSeq += 1;
    }
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
