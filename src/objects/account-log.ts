// AccountLog: the account's state machine over its SQLite log. It wakes (snapshot + verified
// tail, or full verified replay), decides commands against current state, and appends with
// an expected version and an optional idempotency key, all in one synchronous transaction.
// No await anywhere in here: a Durable Object's input gate then serializes every command.

import { Result } from "effect";
import { decide, evolve, fold, initialState, type AccountState } from "../../domain/account.ts";
import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountError } from "../../domain/errors.ts";
import type { AccountEvent, Actor, EventMetadata, StoredEvent } from "../../domain/events.ts";
import { ChainBroken, EventStore, GENESIS_HASH, WrongExpectedVersion, type ExpectedVersion } from "../store/event-store.ts";
import { IdempotencyKeys } from "../store/idempotency.ts";
import { ACCOUNT_MIGRATIONS } from "../store/account-schema.ts";
import { migrate } from "../store/migrations.ts";
import { Snapshots } from "../store/snapshots.ts";

export interface RequestMeta {
  readonly requestId: string;
  readonly at: number;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
}

export type Executed =
  | { readonly ok: true; readonly events: ReadonlyArray<StoredEvent>; readonly replayed?: true }
  | {
      readonly ok: false;
      readonly error: AccountError["_tag"] | "WrongExpectedVersion";
      readonly message: string;
      readonly replayed?: true;
    };

export interface ExecuteOptions {
  /** Default `any`: commands are decided against current state, which the gate keeps current. */
  readonly expected?: ExpectedVersion;
  /** A retry with the same key returns the first outcome and appends nothing. */
  readonly idempotencyKey?: string;
}

export type Stamped = { readonly command: AccountCommand; readonly actor: Actor };

export class AccountLog {
  readonly store: EventStore;
  private readonly snapshots: Snapshots;
  private readonly keys: IdempotencyKeys;
  state: AccountState = initialState;
  head = { seq: 0, hash: GENESIS_HASH };
  /** Set when the chain failed its check on wake-up: the account then refuses all work. */
  brokenAt: number | null = null;

  /**
   * `empty`: the database was never written (no tables yet). Such an object answers as an
   * unknown account and writes nothing until it is registered (see AccountObject.register).
   */
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly snapshotEvery: number,
    public empty: boolean,
  ) {
    this.store = new EventStore(storage.sql);
    this.snapshots = new Snapshots(storage.sql);
    this.keys = new IdempotencyKeys(storage.sql);
    if (!empty) this.wake();
  }

  /** Rebuild from the log: the newest usable snapshot, then every later event, chain-checked. */
  private wake(): void {
    const snapshot = this.snapshots.latest();
    let state = snapshot?.state ?? initialState;
    let head = snapshot ? { seq: snapshot.seq, hash: snapshot.hash } : { seq: 0, hash: GENESIS_HASH };
    try {
      for (const stored of this.store.from(head)) {
        state = evolve(state, stored.data);
        head = { seq: stored.seq, hash: stored.hash };
      }
    } catch (error) {
      if (!(error instanceof ChainBroken)) throw error;
      this.brokenAt = error.seq;
      state = initialState;
    }
    this.state = state;
    this.head = head;
  }

  createStorage(): void {
    migrate(this.storage, ACCOUNT_MIGRATIONS);
    this.empty = false;
  }

  intact(): void {
    if (this.brokenAt !== null) {
      console.error(JSON.stringify({ level: "error", event: "account_log_tampered", brokenAt: this.brokenAt }));
      throw new Error(`account log failed its integrity check at seq ${this.brokenAt}`);
    }
  }

  /**
   * Decides each command against the state left by the previous one and appends every
   * resulting event in one transaction; a refusal of any command appends nothing.
   */
  execute(commands: ReadonlyArray<Stamped>, meta: RequestMeta, options: ExecuteOptions = {}): Executed {
    this.intact();
    // Nothing is remembered for an account that does not exist: there is nothing to protect.
    const key = this.empty ? undefined : options.idempotencyKey;
    if (key !== undefined) {
      const first = this.keys.recall<Executed>(key);
      if (first) return { ...first, replayed: true };
    }
    let state = this.state;
    const batches: Array<{ events: ReadonlyArray<AccountEvent>; actor: Actor }> = [];
    for (const { command, actor } of commands) {
      const decision = decide(command, state);
      if (Result.isFailure(decision)) {
        const refused: Executed = { ok: false, error: decision.failure._tag, message: describe(decision.failure) };
        if (key !== undefined) this.keys.remember(key, refused, meta.at);
        return refused;
      }
      state = fold(decision.success, state);
      batches.push({ events: decision.success, actor });
    }
    try {
      return this.storage.transactionSync(() => {
        // The first write to a never-written object creates its tables (see `empty`).
        if (this.empty) this.createStorage();
        return this.commit(batches, state, meta, options);
      });
    } catch (error) {
      // A conflict is not remembered under the key: the caller may retry with a fresh version.
      if (error instanceof WrongExpectedVersion) return { ok: false, error: "WrongExpectedVersion", message: error.message };
      throw error;
    }
  }

  private commit(
    batches: ReadonlyArray<{ events: ReadonlyArray<AccountEvent>; actor: Actor }>,
    state: AccountState,
    meta: RequestMeta,
    options: ExecuteOptions,
  ): Executed {
    const before = this.head.seq;
    let expected = options.expected ?? { kind: "any" };
    const appended: StoredEvent[] = [];
    for (const { events, actor } of batches) {
      // A batch with nothing to append writes nothing, so it cannot conflict (decide stayed quiet).
      if (events.length === 0) continue;
      const metadata: EventMetadata = { ...meta, actor };
      appended.push(...this.store.append(events, metadata, () => crypto.randomUUID(), expected));
      // Later batches of the same call append right after the earlier ones.
      expected = { kind: "exact", seq: before + appended.length };
    }
    const last = appended.at(-1);
    const head = last ? { seq: last.seq, hash: last.hash } : this.head;
    if (Snapshots.due(before, head.seq, this.snapshotEvery)) this.snapshots.save(head.seq, head.hash, state, meta.at);
    const outcome: Executed = { ok: true, events: appended };
    if (options.idempotencyKey !== undefined && !this.empty) this.keys.remember(options.idempotencyKey, outcome, meta.at);
    // Only now, with the transaction about to commit, does memory move forward.
    this.state = state;
    this.head = head;
    return outcome;
  }

  /** Whether a key has an outcome on record (e.g. a consent ticket already answered). */
  answered(key: string): boolean {
    return !this.empty && this.keys.recall(key) !== null;
  }

  pruneIdempotencyKeys(now: number): void {
    this.keys.prune(now);
  }
}

const describe = (error: AccountError): string => {
  switch (error._tag) {
    case "AccountNotFound": return "no such account";
    case "AccountAlreadyRegistered": return `an account is already registered for ${error.email}`;
    case "AccountClosed": return "the account is closed";
    case "ConsentMissing": return `no consent recorded for client ${error.clientId}`;
    case "SessionNotLive": return `session is ${error.reason}`;
    case "SessionAlreadyStarted": return "session id already in use";
    case "StaleRefresh": return "refresh token generation is superseded";
    case "RoleAboveGrantor": return `role ${error.role} is above the grantor's own roles`;
    case "NotForServiceAccount": return `a service account may not ${error.what}`;
    case "MfaNotEnabled": return "two-step verification is not on";
    case "MfaAlreadyEnabled": return "two-step verification is already on";
    case "CredentialsChanged": return "the password changed after this sign-in began";
  }
};
