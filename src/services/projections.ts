// Reads over the sharded global read models: fan out to every shard (or the one an account
// lives in), merge in the read model's total order, and page with an opaque cursor.
// Also projection health (lag per shard) and rebuild-from-zero.

import type { AuditQuery, AuditRow } from "../../projections/audit.ts";
import { compareAuditDesc } from "../../projections/audit.ts";
import type { DirectoryRow } from "../../projections/directory.ts";
import { allTargets, targetOf, type ProjectionName } from "../../projections/sharding.ts";
import type { Env } from "../env.ts";
import { shardStub } from "../objects/account-delivery.ts";
import type { DirectoryQuery } from "../objects/directory-shard-object.ts";
import type { ShardHealth } from "../objects/projection-shard.ts";

export const encodeCursor = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Decodes a cursor this module issued; anything else (tampered, foreign shape) is refused. */
export const decodeCursor = <T>(cursor: string | undefined, shape: Record<keyof T, "string" | "number">): T | undefined => {
  if (!cursor) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    throw new InvalidCursor();
  }
  const fits =
    typeof value === "object" && value !== null &&
    Object.entries(shape).every(([key, type]) => {
      const field = (value as Record<string, unknown>)[key];
      return typeof field === type && (type !== "number" || Number.isFinite(field));
    });
  if (!fits) throw new InvalidCursor();
  return value as T;
};

/** A query the caller got wrong (bad cursor, bad time): reported to the caller, not a fault. */
export class InvalidQuery extends Error {}

export class InvalidCursor extends InvalidQuery {
  constructor() {
    super("The cursor is not valid; start again without one.");
  }
}

/** A strict UTC ISO 8601 time: Date.parse alone would roll 2026-02-30 over into March. */
export const parseTime = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,3})?Z$/.exec(iso);
  const time = Date.parse(iso);
  const d = new Date(time);
  const exact =
    m !== null && !Number.isNaN(time) &&
    [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()].every(
      (part, i) => part === Number(m[i + 1]),
    );
  if (!exact) throw new InvalidQuery(`${iso} is not a valid UTC time (YYYY-MM-DDThh:mm:ssZ)`);
  return time;
};

const directoryShard = (env: Env, target: string) => env.DIRECTORY.get(env.DIRECTORY.idFromName(target));
const auditShard = (env: Env, target: string) => env.AUDIT.get(env.AUDIT.idFromName(target));

export async function listAccounts(
  env: Env,
  query: { kind?: "people" | "services"; status?: "active" | "closed"; emailPrefix?: string; limit: number; cursor?: string },
): Promise<{ accounts: DirectoryRow[]; next: string | null }> {
  const after = decodeCursor<NonNullable<DirectoryQuery["after"]>>(query.cursor, { email: "string", accountId: "string" });
  const shardQuery: DirectoryQuery = { kind: query.kind, limit: query.limit, status: query.status, emailPrefix: query.emailPrefix, after };
  const pages = await Promise.all(allTargets("directory").map((t) => directoryShard(env, t).list(shardQuery) as Promise<DirectoryRow[]>));
  // The shards' order, merged: (email, accountId); service accounts have no email ("").
  const key = (row: DirectoryRow) => [row.email ?? "", row.accountId] as const;
  const merged = pages
    .flat()
    .sort((a, b) => {
      const [ea, ia] = key(a);
      const [eb, ib] = key(b);
      return ea < eb ? -1 : ea > eb ? 1 : ia < ib ? -1 : ia > ib ? 1 : 0;
    })
    .slice(0, query.limit);
  const last = merged.at(-1);
  return { accounts: merged, next: merged.length === query.limit && last ? encodeCursor({ email: last.email ?? "", accountId: last.accountId }) : null };
}

export async function queryAudit(
  env: Env,
  query: Omit<AuditQuery, "before"> & { cursor?: string },
): Promise<{ events: AuditRow[]; next: string | null }> {
  const { cursor, ...filters } = query;
  const shardQuery: AuditQuery = { ...filters, before: decodeCursor<NonNullable<AuditQuery["before"]>>(cursor, { at: "number", accountId: "string", seq: "number" }) };
  // An account's events all live in one shard: ask only that one.
  const targets = query.accountId ? [targetOf("audit", query.accountId)] : allTargets("audit");
  const pages = await Promise.all(targets.map((t) => auditShard(env, t).query(shardQuery) as Promise<AuditRow[]>));
  const merged = pages.flat().sort(compareAuditDesc).slice(0, query.limit);
  const last = merged.at(-1);
  return {
    events: merged,
    next: merged.length === query.limit && last ? encodeCursor({ at: last.at, accountId: last.accountId, seq: last.seq }) : null,
  };
}

export type ShardReport = ShardHealth | { readonly target: string; readonly error: string };

export async function projectionHealth(env: Env): Promise<ShardReport[]> {
  const targets = [...allTargets("directory"), ...allTargets("audit")];
  return Promise.all(
    targets.map(async (target) => {
      try {
        const health = (await shardStub(env, target).health()) as ShardHealth;
        return { ...health, target };
      } catch (error) {
        return { target, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

export async function rebuildProjection(env: Env, projection: ProjectionName): Promise<{ shards: number; sources: number; unreachable: number }> {
  const results = await Promise.all(allTargets(projection).map((t) => shardStub(env, t).rebuild(t)));
  return {
    shards: results.length,
    sources: results.reduce((n, r) => n + r.sources, 0),
    unreachable: results.reduce((n, r) => n + r.unreachable, 0),
  };
}
