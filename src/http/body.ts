// Bounded request-body readers. Every body a client sends is read through here so that an
// oversized or malformed body is a 4xx, never a 500 and never unbounded memory.

export class BadRequest extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** 64 KiB is far above any legitimate OAuth form or registration document. */
export const MAX_BODY_BYTES = 64 * 1024;

export async function readText(request: Request, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new BadRequest(413, `request body exceeds ${maxBytes} bytes`);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new BadRequest(413, `request body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BadRequest(400, "request body is not valid UTF-8");
  }
}

const mediaType = (request: Request) =>
  (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();

/** RFC 6749 §3.2: the token endpoint takes application/x-www-form-urlencoded. */
export async function readForm(request: Request): Promise<URLSearchParams> {
  if (mediaType(request) !== "application/x-www-form-urlencoded") {
    throw new BadRequest(415, "expected content-type application/x-www-form-urlencoded");
  }
  const form = new URLSearchParams(await readText(request));
  // Percent-decoding invalid UTF-8 yields U+FFFD; two different byte strings would then
  // collapse into one value (a password, say). Refuse instead of guessing.
  for (const [name, value] of form) {
    if (name.includes("\uFFFD") || value.includes("\uFFFD")) throw new BadRequest(400, `form field ${name.slice(0, 40)} is not valid UTF-8`);
  }
  return form;
}

export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  if (mediaType(request) !== "application/json") {
    throw new BadRequest(415, "expected content-type application/json");
  }
  let value: unknown;
  try {
    value = JSON.parse(await readText(request));
  } catch (e) {
    if (e instanceof BadRequest) throw e;
    throw new BadRequest(400, "request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequest(400, "request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

/** A form parameter that must appear at most once (RFC 6749 §3.1: no repeated parameters). */
export function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw new BadRequest(400, `parameter ${name} is repeated`);
  return values[0];
}
