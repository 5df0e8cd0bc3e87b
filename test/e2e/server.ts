// Starts a real `wrangler dev` for black-box end-to-end tests and stops it again.
//
// Each run gets a free loopback port, a fresh temporary --persist-to directory (so
// accounts from earlier runs never leak in), and its own process group so that stop()
// ends wrangler together with the workerd processes it spawned. Output goes to a log
// file under test-output/ for debugging a failed run.

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface DevServer {
  /** e.g. http://127.0.0.1:40123 */
  readonly origin: string;
  /** `${origin}/mcp`: the only thing a client needs. */
  readonly mcpUrl: string;
  /** Where wrangler's stdout and stderr go. */
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra `--var NAME:VALUE` pairs. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Label used in the log file name. */
  readonly name?: string;
  /** A wrangler config other than the project's wrangler.toml. */
  readonly config?: string;
  /** How long to wait for the server to answer (ms). */
  readonly readyTimeoutMs?: number;
}

/** Asks the kernel for a port that is free right now on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not read the port of a probe socket"));
        return;
      }
      const port = address.port;
      server.close(() => resolvePort(port));
    });
  });

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once("exit", () => r()));

const killGroup = (child: ChildProcess, signal: NodeJS.Signals) => {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal); // the whole group: wrangler and its workerd children
  } catch {
    // already gone
  }
};

export async function startDevServer(options: StartOptions = {}): Promise<DevServer> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const persistTo = mkdtempSync(join(tmpdir(), "warden-e2e-"));
  const outDir = join(projectRoot, "test-output");
  mkdirSync(outDir, { recursive: true });
  const logFile = join(outDir, `wrangler-${options.name ?? "e2e"}.log`);
  const log = createWriteStream(logFile);

  // Tests sign many people up from one loopback address: lift the per-IP throttle unless a
  // test sets its own limits (the throttle's own test does).
  const vars = { THROTTLE_BURST: "10000", THROTTLE_PER_MINUTE: "10000", ...options.vars };
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const wranglerBin = join(projectRoot, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [
    wranglerBin,
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--persist-to", persistTo,
    "--show-interactive-dev-session=false",
    ...(options.config === undefined ? [] : ["--config", options.config]),
    ...varArgs,
  ];
  log.write(`$ ${process.execPath} ${args.join(" ")}\n`);

  // Run wrangler on the Node that runs us (Node 24); the system `node` is too old.
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    detached: true, // own process group, so stop() can end workerd too
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CI: "true", // no interactive prompts
      PATH: `${join(projectRoot, "node_modules", ".bin")}:${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    },
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });

  // Safety net: if the test process exits without calling stop(), take wrangler with it.
  const onExit = () => killGroup(child, "SIGKILL");
  process.once("exit", onExit);

  const origin = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    killGroup(child, "SIGTERM");
    const done = await Promise.race([exited(child).then(() => true), sleep(5_000).then(() => false)]);
    if (!done) {
      killGroup(child, "SIGKILL");
      await Promise.race([exited(child), sleep(2_000)]);
    }
    log.end();
    rmSync(persistTo, { recursive: true, force: true });
  };

  try {
    await waitUntilAnswering(origin, child, options.readyTimeoutMs ?? 90_000, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin, mcpUrl: `${origin}/mcp`, logFile, stop };
}

/** Polls until the server answers any HTTP request (bounded). */
async function waitUntilAnswering(origin: string, child: ChildProcess, timeoutMs: number, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited early (code ${child.exitCode}, signal ${child.signalCode}); see ${logFile}`);
    }
    try {
      const res = await fetch(`${origin}/.well-known/oauth-authorization-server`, {
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      return;
    } catch {
      await sleep(250);
    }
  }
  throw new Error(`wrangler dev did not answer on ${origin} within ${timeoutMs} ms; see ${logFile}`);
}
