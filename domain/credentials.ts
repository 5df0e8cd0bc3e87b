// Pure rules for what a user may type at sign-up. No hashing here (that is src/password.ts).

/** Emails are compared case-insensitively after trimming; this is the identity key. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

// Deliberately simple (WHATWG "valid e-mail address" shape); deliverability is not our check.
const EMAIL_SHAPE = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export const emailProblem = (email: string): string | null => {
  if (email.length === 0) return "Enter your email address.";
  if (email.length > 254) return "That email address is too long.";
  return EMAIL_SHAPE.test(email) ? null : "That does not look like an email address.";
};

/** NIST SP 800-63B §3.1.1.2: length over composition rules, a cap to bound hashing work. */
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 128;

const TOO_COMMON = new Set([
  "password1234", "123456789012", "qwertyuiopas", "passwordpassword", "letmeinletmein",
  "iloveyou1234", "administrator", "welcome12345", "changeme1234", "trustno1trustno1",
]);

/** Passwords are hashed in NFKC (src/password.ts): the policy judges exactly that string. */
export const passwordProblem = (raw: string, email: string): string | null => {
  const password = raw.normalize("NFKC");
  // The minimum counts what was typed (NFKC can expand one character into many); the
  // maximum counts what is hashed (it bounds the hashing work).
  if (Math.min([...raw].length, [...password].length) < PASSWORD_MIN) return `Use at least ${PASSWORD_MIN} characters.`;
  if ([...password].length > PASSWORD_MAX) return `Use at most ${PASSWORD_MAX} characters.`;
  const lowered = password.toLowerCase();
  if (TOO_COMMON.has(lowered)) return "That password is too common.";
  if (new Set(password).size < 4) return "Use more than a few distinct characters.";
  const local = normalizeEmail(email).split("@")[0] ?? "";
  if (local.length >= 4 && lowered.includes(local)) return "Do not include your email in the password.";
  return null;
};

/** ADMIN_EMAILS is a comma-separated wrangler var. */
export const parseAdminEmails = (value: string | undefined): ReadonlySet<string> =>
  new Set((value ?? "").split(",").map(normalizeEmail).filter((e) => e.length > 0));
