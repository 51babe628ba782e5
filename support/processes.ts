import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";

/** The project's root: the nearest folder with a package.json, from here or from dist-bench/support. */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = projectRoot(import.meta.dirname);

/** The tests run the built entry points (`npm test` builds first), as `npm start` and the Procfile do. */
export const dist = (p: string) => resolve(ROOT, "dist/src", p);

export interface Proc {
  child: ChildProcess;
  out: string[];
  port: () => number | undefined;
}

export function run(script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [dist(script)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", LOG_FORMAT: "json", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: string[] = [];
  child.stdout!.on("data", (d: Buffer) => out.push(d.toString()));
  child.stderr!.on("data", (d: Buffer) => out.push(d.toString()));
  return {
    child,
    out,
    port: () => {
      const m = /"port":(\d+)/.exec(out.join(""));
      return m ? Number(m[1]) : undefined;
    },
  };
}

export function exited(child: ChildProcess): Promise<number | null> {
  // A process killed by a signal has exitCode null and signalCode set: it has exited all the same.
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once("exit", (code) => r(code)));
}

/** A TCP port nothing listens on right now (for a private redis-server and the like). */
export async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}
