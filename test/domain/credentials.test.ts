// What a user may type at sign-up (domain/credentials.ts): the email identity key, and the
// password policy of NIST SP 800-63B §3.1.1.2, judged on the NFKC string that is hashed.

import { describe, expect, it } from "vitest";
import {
  PASSWORD_MAX, PASSWORD_MIN, emailProblem, normalizeEmail, parseAdminEmails, passwordProblem,
} from "../../domain/credentials.ts";

const EMAIL = "someone@example.com";
/** A password no rule objects to, padded or cut to `n` code points. */
const ofLength = (n: number) => "plum-Quartz-7-harbour-".repeat(10).slice(0, n);

describe("normalizeEmail: emails compare case-insensitively after trimming", () => {
  it.each<[string, string]>([
    ["Alice@Example.COM", "alice@example.com"],
    ["  alice@example.com\t\n", "alice@example.com"],
    [" ALICE@EXAMPLE.COM ", "alice@example.com"],
  ])("turns %j into %j", (raw, normal) => expect(normalizeEmail(raw)).toBe(normal));

  it("is idempotent", () => {
    const once = normalizeEmail("  Mixed.Case+Tag@Example.ORG ");
    expect(normalizeEmail(once)).toBe(once);
  });

  it("gives one key for the ways a person might type the same address", () =>
    expect(new Set(["bob@example.com", "BOB@example.com", " Bob@Example.com "].map(normalizeEmail)).size).toBe(1));
});

describe("emailProblem: the WHATWG shape of an (already normalized) email address", () => {
  it.each([
    "a@example.com",
    "first.last@example.com",
    "user+tag@example.co.uk",
    "o'brien@example.ie",
    "x_y-z@sub-domain.example.org",
    "1234@example.com",
    "user@xn--bcher-kva.example",
  ])("accepts %s", (email) => expect(emailProblem(email)).toBeNull());

  it("asks for an address when empty", () => expect(emailProblem("")).toBe("Enter your email address."));

  it.each<[string, string]>([
    ["no @", "someone.example.com"],
    ["two @", "a@b@example.com"],
    ["nothing before @", "@example.com"],
    ["nothing after @", "someone@"],
    ["a single-label domain", "someone@localhost"],
    ["a space", "some one@example.com"],
    ["a domain label starting with a hyphen", "someone@-example.com"],
    ["a domain label ending with a hyphen", "someone@example-.com"],
    ["an empty domain label", "someone@example..com"],
    ["a trailing dot", "someone@example.com."],
    ["a domain label over 63 characters", `someone@${"a".repeat(64)}.com`],
    ["non-ASCII characters", "jösé@example.com"],
    ["a display name", "Someone <someone@example.com>"],
    ["capitals (the caller normalizes first)", "Someone@Example.com"],
    ["surrounding spaces (the caller normalizes first)", " someone@example.com "],
  ])("refuses %s", (_name, email) => expect(emailProblem(email)).toBe("That does not look like an email address."));

  it("accepts 254 characters, the longest path a mail server carries (RFC 5321 §4.5.3.1.3)", () => {
    const email = `${"a".repeat(64)}@${["b".repeat(63), "c".repeat(63), "d".repeat(57)].join(".")}.com`;
    expect(email.length).toBe(254);
    expect(emailProblem(email)).toBeNull();
  });

  it("refuses 255 characters as too long, whatever its shape", () => {
    const email = `${"a".repeat(65)}@${["b".repeat(63), "c".repeat(63), "d".repeat(57)].join(".")}.com`;
    expect(email.length).toBe(255);
    expect(emailProblem(email)).toBe("That email address is too long.");
    expect(emailProblem("x".repeat(300))).toBe("That email address is too long.");
  });
});

describe("NIST SP 800-63B §3.1.1.2: length, not composition, bounded to limit hashing work", () => {
  it(`accepts exactly ${PASSWORD_MIN} characters`, () => expect(passwordProblem(ofLength(PASSWORD_MIN), EMAIL)).toBeNull());

  it(`refuses ${PASSWORD_MIN - 1} characters`, () =>
    expect(passwordProblem(ofLength(PASSWORD_MIN - 1), EMAIL)).toBe("Use at least 12 characters."));

  it("refuses an empty password", () => expect(passwordProblem("", EMAIL)).toBe("Use at least 12 characters."));

  it(`accepts exactly ${PASSWORD_MAX} characters`, () => expect(passwordProblem(ofLength(PASSWORD_MAX), EMAIL)).toBeNull());

  it(`refuses ${PASSWORD_MAX + 1} characters`, () =>
    expect(passwordProblem(ofLength(PASSWORD_MAX + 1), EMAIL)).toBe("Use at most 128 characters."));

  it("imposes no composition rule: all lowercase letters and spaces is fine", () =>
    expect(passwordProblem("correct horse battery staple", EMAIL)).toBeNull());

  it("counts code points, not UTF-16 units: 12 emoji are 12 characters, 128 are not too many", () => {
    const emoji = "😀🐙🚀🌵🎲🧩🍉🛶🦉🎻🧲🪁";
    expect(emoji.length).toBe(24);
    expect(passwordProblem(emoji, EMAIL)).toBeNull();
    expect(passwordProblem(emoji.repeat(11).slice(0, 2 * PASSWORD_MAX), EMAIL)).toBeNull();
    expect(passwordProblem(emoji.slice(0, 22), EMAIL)).toBe("Use at least 12 characters.");
  });

  it("accepts spaces and any printable Unicode", () => expect(passwordProblem("ünïcødé pässwörd ✓", EMAIL)).toBeNull());
});

describe("NIST SP 800-63B §3.1.1.2: passwords known to be weak are refused", () => {
  it.each(["password1234", "PASSWORD1234", "Password1234", "123456789012", "qwertyuiopas", "administrator", "trustno1trustno1"])(
    "refuses the common password %s, in any case",
    (password) => expect(passwordProblem(password, EMAIL)).toBe("That password is too common."),
  );

  it.each(["aaaaaaaaaaaa", "abababababab", "abcabcabcabc", "1111111111111111", "    ........"])(
    "refuses %j: fewer than four distinct characters",
    (password) => expect(passwordProblem(password, EMAIL)).toBe("Use more than a few distinct characters."),
  );

  it("accepts four distinct characters", () => expect(passwordProblem("abcdabcdabcd", EMAIL)).toBeNull());
});

describe("NIST SP 800-63B §3.1.1.2: a password must not contain the account's email local part", () => {
  it.each(["johnny-rocks-2024", "xxJOHNNYxxyy", "my email is johnny@example.com"])("refuses %j for johnny@example.com", (password) =>
    expect(passwordProblem(password, "johnny@example.com")).toBe("Do not include your email in the password."));

  it("compares against the normalized email, whatever its case and padding", () =>
    expect(passwordProblem("johnny-rocks-2024", "  Johnny@Example.com ")).toBe("Do not include your email in the password."));

  it("ignores local parts shorter than four characters, which would refuse too much", () =>
    expect(passwordProblem("bob-builds-bridges", "bob@example.com")).toBeNull());

  it("allows the domain part in the password", () => expect(passwordProblem("example-plum-Quartz", "johnny@example.com")).toBeNull());
});

describe("passwords are judged after NFKC normalization, the form that is hashed", () => {
  it("refuses a fullwidth spelling of a common password", () => {
    const fullwidth = "ｐａｓｓｗｏｒｄ１２３４";
    expect(fullwidth).not.toBe("password1234");
    expect(fullwidth.normalize("NFKC")).toBe("password1234");
    expect(passwordProblem(fullwidth, EMAIL)).toBe("That password is too common.");
  });

  it("refuses a fullwidth spelling of the email local part", () =>
    expect(passwordProblem("ｊｏｈｎｎｙ-rocks-2024", "johnny@example.com")).toBe("Do not include your email in the password."));

  it("counts length after normalization: ligatures that expand past the maximum are too long", () => {
    const ligature = "\uFDFA"; // one code point, 18 after NFKC
    expect([...ligature.repeat(12)].length).toBeLessThan(PASSWORD_MAX);
    expect(passwordProblem(ligature.repeat(12), EMAIL)).toBe("Use at most 128 characters.");
  });

  it("counts the minimum on what was typed: one character that NFKC expands is still too short", () => {
    expect(passwordProblem("\uFDFA", EMAIL)).toBe("Use at least 12 characters.");
    expect(passwordProblem("㌀㌁㌂", EMAIL)).toBe("Use at least 12 characters.");
  });

  it("counts length after normalization: half-width katakana that combine can fall below the minimum", () => {
    const typed = "ﾊﾟｽﾜｰﾄﾞﾊﾟｽﾜｰ"; // 12 code points typed, 9 after NFKC
    expect([...typed].length).toBe(12);
    expect(passwordProblem(typed, EMAIL)).toBe("Use at least 12 characters.");
  });

  it("counts distinct characters after normalization: fullwidth and ASCII a are the same letter", () =>
    expect(passwordProblem("aａaａbｂbｂcｃcｃ", EMAIL)).toBe("Use more than a few distinct characters."));
});

describe("parseAdminEmails: the ADMIN_EMAILS wrangler var", () => {
  it("is empty when unset or blank", () => {
    expect(parseAdminEmails(undefined).size).toBe(0);
    expect(parseAdminEmails("").size).toBe(0);
    expect(parseAdminEmails(" , ,, ").size).toBe(0);
  });

  it("trims and lowercases each address, and ignores empty entries", () =>
    expect(parseAdminEmails(" Admin@Example.com ,, ops@EXAMPLE.org,")).toEqual(new Set(["admin@example.com", "ops@example.org"])));

  it("holds each address once however often it is listed", () =>
    expect(parseAdminEmails("a@example.com,A@example.com, a@example.com ")).toEqual(new Set(["a@example.com"])));

  it("matches what normalizeEmail makes of a sign-in address", () =>
    expect(parseAdminEmails("Root@Example.com").has(normalizeEmail("  ROOT@example.COM"))).toBe(true));
});
