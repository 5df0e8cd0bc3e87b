// src/totp.ts against the published test vectors: RFC 4226 Appendix D (HOTP) and RFC 6238
// Appendix B (TOTP, SHA-1), plus base32 (RFC 4648 §10) and the acceptance window.

import { describe, expect, it } from "vitest";
import {
  base32Decode, base32Encode, hotp, matchingStep, otpauthUri, timeStep, totp, TOTP_PERIOD_S,
} from "../../src/totp.ts";

/** Both RFCs use the ASCII string "12345678901234567890" as the SHA-1 secret. */
const RFC_SECRET = new TextEncoder().encode("12345678901234567890");

describe("RFC 4226 Appendix D: HOTP values for counters 0…9", () => {
  const expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];
  it.each(expected.map((code, counter) => [counter, code] as const))("counter %i gives %s", async (counter, code) =>
    expect(await hotp(RFC_SECRET, counter)).toBe(code));
});

describe("RFC 6238 Appendix B: TOTP (SHA-1, 8 digits, X = 30 s, T0 = 0)", () => {
  const vectors: Array<[number, string, string]> = [
    [59, "0000000000000001", "94287082"],
    [1111111109, "00000000023523EC", "07081804"],
    [1111111111, "00000000023523ED", "14050471"],
    [1234567890, "000000000273EF07", "89005924"],
    [2000000000, "0000000003F940AA", "69279037"],
    [20000000000, "0000000027BC86AA", "65353130"],
  ];
  it.each(vectors)("at %i s the step is %s and the code %s", async (seconds, stepHex, code) => {
    expect(timeStep(seconds * 1000)).toBe(parseInt(stepHex, 16));
    expect(await totp(RFC_SECRET, seconds * 1000, 8)).toBe(code);
  });
  it("the 6-digit code is the last 6 digits of the 8-digit one (same truncation, mod 10^6)", async () =>
    expect(await totp(RFC_SECRET, 59_000)).toBe("287082"));
});

describe("RFC 6238 §5.2: the acceptance window is the current step and one either side", () => {
  const at = 1_700_000_000_000;
  const step = timeStep(at);
  it("accepts the current, previous and next step's code, naming the step it matched", async () => {
    for (const delta of [-1, 0, 1]) {
      const code = await hotp(RFC_SECRET, step + delta);
      expect(await matchingStep(RFC_SECRET, code, at)).toBe(step + delta);
    }
  });
  it("refuses a code two steps away on either side", async () => {
    for (const delta of [-2, 2]) expect(await matchingStep(RFC_SECRET, await hotp(RFC_SECRET, step + delta), at)).toBeNull();
  });
  it("refuses anything that is not six digits without computing a match", async () => {
    for (const junk of ["", "12345", "1234567", "abcdef", "12 34 5x"]) expect(await matchingStep(RFC_SECRET, junk, at)).toBeNull();
  });
  it("ignores spaces a person types between the digits", async () => {
    const code = await hotp(RFC_SECRET, step);
    expect(await matchingStep(RFC_SECRET, `${code.slice(0, 3)} ${code.slice(3)}`, at)).toBe(step);
  });
  it("a step lasts 30 seconds", () => expect(timeStep(at + TOTP_PERIOD_S * 1000)).toBe(step + 1));
});

describe("RFC 4648 §10: base32", () => {
  const vectors: Array<[string, string]> = [["", ""], ["f", "MY"], ["fo", "MZXQ"], ["foo", "MZXW6"], ["foob", "MZXW6YQ"], ["fooba", "MZXW6YTB"], ["foobar", "MZXW6YTBOI"]];
  it.each(vectors)("encodes %j as %s (padding dropped) and back", (plain, encoded) => {
    expect(base32Encode(new TextEncoder().encode(plain))).toBe(encoded);
    expect(new TextDecoder().decode(base32Decode(encoded)!)).toBe(plain);
  });
  it("decodes lower case, spaces and padding; refuses other characters", () => {
    expect(new TextDecoder().decode(base32Decode("mzxw 6ytb oi======")!)).toBe("foobar");
    expect(base32Decode("MZXW1")).toBeNull();
  });
});

describe("Key Uri Format: the otpauth:// provisioning URI", () => {
  it("names issuer and account in the label and carries secret, issuer and the parameters", () => {
    const uri = new URL(otpauthUri({ issuer: "Warden", account: "ada+mfa@example.com", secret: "JBSWY3DPEHPK3PXP" }));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(decodeURIComponent(uri.pathname)).toBe("/Warden:ada+mfa@example.com");
    expect(Object.fromEntries(uri.searchParams)).toEqual({ secret: "JBSWY3DPEHPK3PXP", issuer: "Warden", algorithm: "SHA1", digits: "6", period: "30" });
  });
});
