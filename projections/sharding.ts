// The sharding key of every global read model is the account id: all events of one account
// land in one shard (so a shard applies an account's events in order, from one source), and
// accounts spread evenly over shards by a stable hash. Changing a shard count re-homes
// accounts: do it with `rebuild`, never in place.

export const PROJECTIONS = {
  directory: { shards: 4 },
  audit: { shards: 8 },
} as const;
export type ProjectionName = keyof typeof PROJECTIONS;

/** FNV-1a (32-bit): stable across runtimes, no crypto needed, good spread on UUIDs. */
export const fnv1a = (text: string): number => {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
};

export const shardOf = (accountId: string, shards: number): number => fnv1a(accountId) % shards;

/** A delivery target names a projection shard: "directory/2". */
export const targetOf = (projection: ProjectionName, accountId: string): string =>
  `${projection}/${shardOf(accountId, PROJECTIONS[projection].shards)}`;

export const targetsFor = (accountId: string): string[] =>
  (Object.keys(PROJECTIONS) as ProjectionName[]).map((p) => targetOf(p, accountId));

export const allTargets = (projection: ProjectionName): string[] =>
  Array.from({ length: PROJECTIONS[projection].shards }, (_, i) => `${projection}/${i}`);

export const parseTarget = (target: string): { projection: ProjectionName; shard: number } | null => {
  const [name, shard] = target.split("/");
  if (!name || !(name in PROJECTIONS) || shard === undefined || !/^\d+$/.test(shard)) return null;
  return { projection: name as ProjectionName, shard: Number(shard) };
};
