// SigningKeysObject: the single home of the server's keys (idFromName("signing-keys")).
// Read once per isolate and cached by the Worker, so it takes one request per cold start,
// not one per token. Layout: keys(kid PK, private_jwk, public_jwk, created_at),
// secrets(name PK, value) for the HMAC key that signs page tickets.
// Generated once on first use and reused across restarts (kept in SQLite, never exported
// except the public JWK). Rotation arrives with issue 4.

import { DurableObject } from "cloudflare:workers";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from "jose";
import { randomToken } from "../crypto.ts";
import type { Env } from "../env.ts";

export interface KeyMaterial {
  readonly kid: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  /** HMAC-SHA256 key (base64url) for signed page tickets. */
  readonly ticketSecret: string;
}

export class SigningKeysObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS keys (kid TEXT PRIMARY KEY, private_jwk TEXT NOT NULL, public_jwk TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  }

  async current(): Promise<KeyMaterial> {
    const existing = this.read();
    if (existing) return existing;
    // ES256 (RFC 7518 §3.4): small signatures, WebCrypto-native, widely verified.
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), alg: "ES256", use: "sig" };
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = { ...(await exportJWK(privateKey)), alg: "ES256", kid };
    // Another request may have generated keys while we awaited; the first one wins.
    const raced = this.read();
    if (raced) return raced;
    this.ctx.storage.sql.exec(
      "INSERT INTO keys (kid, private_jwk, public_jwk, created_at) VALUES (?,?,?,?)",
      kid, JSON.stringify(privateJwk), JSON.stringify({ ...publicJwk, kid }), Date.now(),
    );
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO secrets (name, value) VALUES ('ticket', ?)", randomToken());
    return this.read()!;
  }

  private read(): KeyMaterial | null {
    const key = this.ctx.storage.sql
      .exec<{ kid: string; private_jwk: string; public_jwk: string }>("SELECT * FROM keys ORDER BY created_at DESC LIMIT 1")
      .toArray()[0];
    const secret = this.ctx.storage.sql.exec<{ value: string }>("SELECT value FROM secrets WHERE name = 'ticket'").toArray()[0];
    if (!key || !secret) return null;
    return { kid: key.kid, privateJwk: JSON.parse(key.private_jwk), publicJwk: JSON.parse(key.public_jwk), ticketSecret: secret.value };
  }
}
