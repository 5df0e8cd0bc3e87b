// ClientRegistryObject: the home of one OAuth client's registration (RFC 7591), one object
// per client_id (idFromName(client_id)). Layout: client(id=1, metadata JSON).

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { hasTable } from "../store/migrations.ts";

export interface ClientMetadata {
  readonly client_id: string;
  readonly client_id_issued_at: number;
  readonly client_name: string;
  readonly redirect_uris: ReadonlyArray<string>;
  readonly grant_types: ReadonlyArray<string>;
  readonly response_types: ReadonlyArray<string>;
  readonly token_endpoint_auth_method: "none";
  readonly scope: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly software_id?: string;
  readonly software_version?: string;
}

// The table is created on registration only: a lookup of an unknown client id leaves no storage.
export class ClientRegistryObject extends DurableObject<Env> {
  /** Registration is create-only: a client id is never re-bound to other metadata. */
  register(metadata: ClientMetadata): boolean {
    if (this.get()) return false;
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS client (id INTEGER PRIMARY KEY CHECK (id = 1), metadata TEXT NOT NULL)");
    this.ctx.storage.sql.exec("INSERT INTO client (id, metadata) VALUES (1, ?)", JSON.stringify(metadata));
    return true;
  }

  get(): ClientMetadata | null {
    if (!hasTable(this.ctx.storage.sql, "client")) return null;
    const row = this.ctx.storage.sql.exec<{ metadata: string }>("SELECT metadata FROM client WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.metadata) as ClientMetadata) : null;
  }
}
