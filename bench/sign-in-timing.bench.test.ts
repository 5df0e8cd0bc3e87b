// Does sign-in time reveal whether an email exists? The same POST /login, through the
// Worker as a client sends it, for an unknown email, a known email with a wrong password,
// and the right password. The baseline is the right password: each ratio should be near 1×
// (every path pays one scrypt verification, src/services/passwords.ts decoy hash).

import { it } from "vitest";
import { call, form, pkcePair, registerClient, warmUp } from "../test/worker/helpers.ts";
import { medianOf, ratio, table, time } from "./measure.ts";

const PASSWORD = "correct horse battery staple";
const ROUNDS = 15;

async function authorizeTicket(clientId: string): Promise<string> {
  const url = new URL("/authorize", "https://warden.test");
  const params = { client_id: clientId, redirect_uri: "http://127.0.0.1:33418/callback", response_type: "code", code_challenge: pkcePair().challenge, code_challenge_method: "S256" };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const page = await (await call(`${url.pathname}${url.search}`)).text();
  const ticket = /name="request" value="([^"]+)"/.exec(page)?.[1];
  if (!ticket) throw new Error("no authorization ticket on the sign-in page");
  return ticket;
}

it("sign-in timing: unknown email vs wrong password vs right password", async () => {
  await warmUp();
  const ticket = await authorizeTicket(await registerClient());
  const emails = Array.from({ length: 5 }, () => `bench-${crypto.randomUUID()}@example.com`);
  for (const email of emails) {
    const res = await call("/signup", form({ email, password: PASSWORD }));
    if (res.status !== 201) throw new Error(`sign-up failed: ${res.status}`);
    await res.body?.cancel();
  }
  const signIn = async (email: string, password: string, expected: number) => {
    const measured = await time(async () => {
      const res = await call("/login", form({ email, password, request: ticket }));
      await res.text();
      return res.status;
    });
    // A timing of the wrong outcome would measure nothing: stop instead.
    if (measured.value !== expected) throw new Error(`expected ${expected}, got ${measured.value}`);
    return measured;
  };
  const samples = { unknown: [] as number[], wrong: [] as number[], right: [] as number[] };
  // Interleaved so drift on the machine hits every case alike; a right password after each
  // wrong one keeps every account below the lockout threshold.
  for (let round = 0; round < ROUNDS; round++) {
    const email = emails[round % emails.length]!;
    samples.unknown.push((await signIn(`nobody-${crypto.randomUUID()}@example.com`, PASSWORD, 401)).ms);
    samples.wrong.push((await signIn(email, `${PASSWORD} wrong`, 401)).ms);
    samples.right.push((await signIn(email, PASSWORD, 200)).ms);
  }
  const median = (values: number[]) => medianOf(values.length, async () => values.shift()!);
  const right = await median([...samples.right]);
  const unknown = await median([...samples.unknown]);
  const wrong = await median([...samples.wrong]);
  table(`POST /login, median of ${ROUNDS} interleaved attempts (ms); baseline: the right password`, [
    { case: "right password (baseline)", "median ms": right, ratio: "1.00×" },
    { case: "known email, wrong password", "median ms": wrong, ratio: ratio(wrong, right) },
    { case: "unknown email", "median ms": unknown, ratio: ratio(unknown, right) },
  ]);
});
