// Reading Warden's MCP tool results (whoami, my_events) the way any client would:
// from structuredContent, cross-checked against the JSON text content.

export interface ToolResultLike {
  readonly content?: unknown;
  readonly structuredContent?: unknown;
  readonly isError?: boolean;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The first text content block parsed as JSON, if there is one. */
export function textJson(result: ToolResultLike): unknown {
  const blocks = Array.isArray(result.content) ? (result.content as unknown[]) : [];
  const text = blocks.find((b): b is { type: "text"; text: string } => isObject(b) && b.type === "text" && typeof b.text === "string");
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text.text);
  } catch {
    return undefined;
  }
}

/** The structured result of a successful tool call; throws with the content on a tool error. */
export function structured(result: ToolResultLike, tool: string): Json {
  if (result.isError === true) throw new Error(`${tool} returned a tool error: ${JSON.stringify(result.content)}`);
  const value = result.structuredContent ?? textJson(result);
  if (!isObject(value)) throw new Error(`${tool} returned no structured object: ${JSON.stringify(result).slice(0, 500)}`);
  return value;
}

const first = (o: Json, keys: readonly string[]): unknown => {
  for (const k of keys) if (o[k] !== undefined) return o[k];
  return undefined;
};

export interface Identity {
  readonly accountId: string;
  readonly email: string;
  readonly roles: readonly string[];
  readonly sessionId: string;
  readonly scopes: readonly string[];
  readonly raw: Json;
}

const asStrings = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(/\s+/).filter((s) => s !== "") : [];

export function identityOf(result: ToolResultLike): Identity {
  const o = structured(result, "whoami");
  return {
    accountId: String(first(o, ["accountId", "account_id", "id"]) ?? ""),
    email: String(first(o, ["email"]) ?? ""),
    roles: asStrings(first(o, ["roles", "role"])),
    sessionId: String(first(o, ["sessionId", "session_id", "session"]) ?? ""),
    scopes: asStrings(first(o, ["scopes", "scope"])),
    raw: o,
  };
}

export interface AccountEvent {
  readonly type: string;
  readonly seq: number | undefined;
  readonly time: string | undefined;
  readonly actor: string;
  readonly data: unknown;
  readonly raw: Json;
}

/** A one-line name for an event's actor, whatever its shape ("system", {type:"system"}, …). */
const actorName = (actor: unknown): string => {
  if (actor === undefined || actor === null) return "";
  if (typeof actor === "string") return actor;
  if (isObject(actor)) {
    const kind = first(actor, ["type", "kind", "_tag"]);
    const id = first(actor, ["id", "accountId", "email", "name"]);
    return [kind, id].filter((x) => x !== undefined).map(String).join(":") || JSON.stringify(actor);
  }
  return String(actor);
};

export function toEvent(raw: Json): AccountEvent {
  const meta = isObject(raw.metadata) ? raw.metadata : isObject(raw.meta) ? raw.meta : {};
  const seq = first(raw, ["seq", "sequence", "version"]);
  const time = first(raw, ["time", "at", "occurredAt", "recordedAt", "timestamp"]) ?? first(meta, ["time", "at", "occurredAt"]);
  return {
    type: String(first(raw, ["type", "_tag", "eventType"]) ?? ""),
    seq: typeof seq === "number" ? seq : undefined,
    time: time === undefined ? undefined : String(time),
    actor: actorName(first(raw, ["actor"]) ?? first(meta, ["actor"])),
    data: first(raw, ["data", "payload"]),
    raw,
  };
}

export interface EventPage {
  readonly events: readonly AccountEvent[];
  readonly next: number | undefined;
  readonly raw: Json;
}

export function eventsOf(result: ToolResultLike): EventPage {
  const o = structured(result, "my_events");
  const list = first(o, ["events", "items"]);
  if (!Array.isArray(list)) throw new Error(`my_events result has no events array: ${JSON.stringify(o).slice(0, 500)}`);
  const next = first(o, ["next", "nextCursor", "cursor"]);
  return { events: list.filter(isObject).map(toEvent), next: typeof next === "number" ? next : undefined, raw: o };
}

/** Event data without the `_tag` that repeats the type column. */
const withoutTag = (data: unknown): unknown => {
  if (!isObject(data) || !("_tag" in data)) return data;
  const { _tag, ...rest } = data;
  return rest;
};

/** A plain-text table of events, for transcripts and failure messages. */
export function eventsTable(events: readonly AccountEvent[]): string {
  const rows = events.map((e) => [
    e.seq === undefined ? "" : String(e.seq),
    e.time ?? "",
    e.type,
    e.actor,
    e.data === undefined ? "" : JSON.stringify(withoutTag(e.data)),
  ]);
  const header = ["seq", "time", "type", "actor", "data"];
  const widths = header.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (c.length > widths[i]! ? `${c.slice(0, widths[i]! - 1)}…` : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
