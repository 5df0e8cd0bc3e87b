// SigningKeysObject: the single home of the server's keys (idFromName("signing-keys")).
// Each isolate reads the key set and caches it for a few minutes (src/keys.ts), so this
// object takes one request per isolate per cache period, not one per token.
// Layout: keys(kid PK, private_jwk, public_jwk, created_at, retired_at), secrets(name PK,
// value) for the HMAC key of page tickets, schema_migrations.
//
// Rotation (RFC 7517 key sets; RFC 8725 §3.4 kid selection): the newest unretired key signs.
// A rotation (scheduled by alarm every ROTATE_EVERY_MS, or on demand) adds a new key and
// retires the old one; a retired key still verifies, and stays in JWKS, for OVERLAP_MS —
// longer than an access token lives plus the isolates' cache period — then it is gone.

import { DurableObject } from "cloudflare:workers";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { randomToken } from "../crypto.ts";
import type { Env } from "../env.ts";
import { migrate } from "../store/migrations.ts";

export const ROTATE_EVERY_MS = 30 * 24 * 60 * 60 * 1000;
export const OVERLAP_MS = 30 * 60 * 1000;

export interface PublicKeyEntry {
  readonly kid: string;
  readonly publicJwk: JWK;
  readonly retiredAt: number | null;
}

export interface KeySet {
  readonly signing: { readonly kid: string; readonly privateJwk: JWK };
  /** The signing key first, then retired keys still inside their overlap. */
  readonly verifying: ReadonlyArray<PublicKeyEntry>;
  /** HMAC-SHA256 key (base64url) for signed page tickets. */
  readonly ticketSecret: string;
}

interface KeyRow extends Record<string, SqlStorageValue> {
  kid: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  retired_at: number | null;
}

interface GeneratedKey {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

/** ES256 (RFC 7518 §3.4): small signatures, WebCrypto-native, widely verified; kid = RFC 7638 thumbprint. */
async function generateKey(): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), alg: "ES256", use: "sig" };
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, privateJwk: { ...(await exportJWK(privateKey)), alg: "ES256", kid }, publicJwk: { ...publicJwk, kid } };
}

export class SigningKeysObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, [
      {
        version: 1,
        description: "keys and secrets",
        sql: `CREATE TABLE IF NOT EXISTS keys (kid TEXT PRIMARY KEY, private_jwk TEXT NOT NULL, public_jwk TEXT NOT NULL, created_at INTEGER NOT NULL);
              CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
      },
      { version: 2, description: "key rotation", sql: "ALTER TABLE keys ADD COLUMN retired_at INTEGER" },
    ]);
  }

  /** The key set; the first call ever generates the first key and schedules rotation. */
  async keySet(now = Date.now()): Promise<KeySet> {
    const existing = this.read(now);
    if (existing) {
      // A key installed before rotation existed has no alarm yet: schedule its rotation.
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(this.signingRow()!.created_at + ROTATE_EVERY_MS);
      return existing;
    }
    const fresh = await generateKey();
    // Another first call may have installed a key while we generated: the first one wins.
    return this.read(now) ?? (await this.install(fresh, now));
  }

  /** On-demand rotation (e.g. a suspected key leak): a new key signs from now on. */
  async rotate(now = Date.now()): Promise<KeySet> {
    return this.install(await generateKey(), now);
  }

  /** Scheduled rotation. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const current = this.signingRow();
    if (!current || now - current.created_at >= ROTATE_EVERY_MS) await this.rotate(now);
    else await this.ctx.storage.setAlarm(current.created_at + ROTATE_EVERY_MS);
  }

  /** The new key signs; the previous one retires (still verifying for OVERLAP_MS). */
  private async install(key: GeneratedKey, now: number): Promise<KeySet> {
    this.ctx.storage.transactionSync(() => {
      const sql = this.ctx.storage.sql;
      sql.exec("UPDATE keys SET retired_at = ? WHERE retired_at IS NULL", now);
      sql.exec("INSERT INTO keys (kid, private_jwk, public_jwk, created_at, retired_at) VALUES (?,?,?,?,NULL)",
        key.kid, JSON.stringify(key.privateJwk), JSON.stringify(key.publicJwk), now);
      sql.exec("INSERT OR IGNORE INTO secrets (name, value) VALUES ('ticket', ?)", randomToken());
      sql.exec("DELETE FROM keys WHERE retired_at IS NOT NULL AND retired_at < ?", now - OVERLAP_MS);
    });
    await this.ctx.storage.setAlarm(now + ROTATE_EVERY_MS);
    return this.read(now)!;
  }

  private signingRow(): KeyRow | null {
    return this.ctx.storage.sql.exec<KeyRow>("SELECT * FROM keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1").toArray()[0] ?? null;
  }

  private read(now: number): KeySet | null {
    const signing = this.signingRow();
    const secret = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM secrets WHERE name = 'ticket'").toArray()[0];
    if (!signing || !secret) return null;
    const retired = this.ctx.storage.sql
      .exec<KeyRow>("SELECT * FROM keys WHERE retired_at IS NOT NULL AND retired_at >= ? ORDER BY retired_at DESC", now - OVERLAP_MS)
      .toArray();
    return {
      signing: { kid: signing.kid, privateJwk: JSON.parse(signing.private_jwk) },
      verifying: [signing, ...retired].map((r) => ({ kid: r.kid, publicJwk: JSON.parse(r.public_jwk), retiredAt: r.retired_at })),
      ticketSecret: secret.value,
    };
  }
}
