// Small synchronous crypto helpers. node:crypto runs natively in workerd under
// nodejs_compat; synchronous hashing lets a Durable Object verify and rotate a token
// without an `await` between reading and writing (no interleaving, see AccountObject).

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

export const sha256Base64Url = (text: string): string =>
  createHash("sha256").update(text).digest("base64url");

/** 256 bits of randomness, base64url: unguessable identifiers, codes and tokens. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString("base64url");

export const constantTimeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};
