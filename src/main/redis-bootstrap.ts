import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { DEFAULT_REDIS_URL } from "../config/config.js";

/** True when something at host:port answers Redis' PING. */
export function redisAnswers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => socket.write("PING\r\n"));
    socket.once("data", (data) =>
      done(data.toString().startsWith("+PONG") || data.toString().startsWith("-NOAUTH")),
    );
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

export interface RedisChoice {
  url: string;
  /** The private redis-server started for this process, if any. */
  child: ChildProcess | null;
  stop(): void;
}

/**
 * REDIS_URL if set; else a Redis already on 127.0.0.1:6379; else a private `redis-server` from PATH
 * on a free port, keeping nothing on disk. Throws with instructions when none of these works.
 */
export async function chooseRedis(
  configured: string | undefined,
  log: Logger,
  /** For tests: where to look for a running Redis, and which server binary to start. */
  options: { probePort?: number; command?: string } = {},
): Promise<RedisChoice> {
  const probePort = options.probePort ?? 6379;
  const command = options.command ?? "redis-server";
  const none = { child: null, stop() {} };
  if (configured) return { url: configured, ...none };
  if (await redisAnswers("127.0.0.1", probePort)) {
    log.info("REDIS_URL not set: using the Redis on 127.0.0.1:6379");
    return { url: DEFAULT_REDIS_URL, ...none };
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "falco-chatops-redis-"));
  const child = spawn(
    command,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    {
      stdio: "ignore",
    },
  );
  const started = await new Promise<boolean>((resolve) => {
    child.once("error", () => resolve(false));
    const deadline = Date.now() + 5000;
    const poll = async () => {
      if (child.exitCode !== null) return resolve(false);
      if (await redisAnswers("127.0.0.1", port, 300)) return resolve(true);
      if (Date.now() > deadline) return resolve(false);
      setTimeout(poll, 100);
    };
    void poll();
  });
  const stop = () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  };
  if (!started) {
    stop();
    throw new Error(
      "No Redis: REDIS_URL is not set, nothing answers on 127.0.0.1:6379, and redis-server could not be started from PATH.\n" +
        "Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL=redis://host:6379.",
    );
  }
  log.warn(
    { port },
    `REDIS_URL not set and no Redis on 127.0.0.1:6379: started a private redis-server on port ${port} (in memory only, stopped on exit)`,
  );
  return { url: `redis://127.0.0.1:${port}`, child, stop };
}
