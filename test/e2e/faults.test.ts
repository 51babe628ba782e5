import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSlack } from "../../src/preview/local-slack.js";
import { exited, freePort, type Proc, ROOT, run } from "../../support/processes.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

const sample = JSON.parse(readFileSync(resolve(ROOT, "examples/terminal-shell.json"), "utf8")) as Record<
  string,
  unknown
>;
const alertNo = (i: number, host = "fault-node") =>
  JSON.stringify({
    ...sample,
    uuid: `fa017000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    hostname: `${host}-${i}`,
    time: `2025-06-01T10:00:00.${String(i).padStart(9, "0")}Z`,
  });

function startRedis(port: number): ChildProcess {
  return spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
}

async function redisAnswers(port: number): Promise<boolean> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  r.on("error", () => {}); // a refused connection is the answer "no"
  try {
    await r.connect();
    return (await r.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

describe("a worker killed with SIGKILL in the middle of a storm, then restarted", () => {
  const slack = new LocalSlack({ token: "xoxb-faults" });
  const prefix = uniquePrefix("sigkill");
  const procs: Proc[] = [];
  let env: Record<string, string>;
  beforeAll(async () => {
    await slack.start();
    env = {
      PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SLACK_BOT_TOKEN: "xoxb-faults",
      SLACK_SIGNING_SECRET: "faults-signing-secret",
      SLACK_CHANNEL: "C0FAULTS",
      SLACK_API_URL: slack.apiUrl,
      SLACK_MAX_POSTS_PER_SECOND: "40",
      JOB_LOCK_SECONDS: "2",
      // One rule on 150 hosts would become a fleet roll-up: this storm is about every alert's own post.
      FLEET_ROLLUP_GROUPS: "0",
    };
    procs.push(run("main/web.js", env), run("main/worker.js", env));
    await waitFor(() => procs[0]!.port(), "the web process");
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => exited(p.child)));
    await slack.stop();
    await dropPrefix(prefix);
  }, 30_000);

  it("posts every accepted alert, with at most one duplicate for the kill", async () => {
    const total = 150;
    const port = procs[0]!.port();
    const body = Array.from({ length: total }, (_, i) => alertNo(i)).join("\n");
    const res = await fetch(`http://127.0.0.1:${port}/falco`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    });
    expect(res.status).toBe(202);
    // At 40 posts/s the storm takes about 4 s: kill the worker once it is under way.
    await waitFor(() => slack.callsOf("chat.postMessage").length >= 30, "the storm under way");
    procs[1]!.child.kill("SIGKILL");
    await exited(procs[1]!.child);
    const postsAtKill = slack.callsOf("chat.postMessage").length;
    expect(postsAtKill).toBeLessThan(total);
    procs.push(run("main/worker.js", env));

    const posted = () =>
      new Set(
        slack
          .callsOf("chat.postMessage")
          .map((c) => /fa017000-0000-4000-8000-\d{12}/.exec(JSON.stringify(c.args.blocks))?.[0])
          .filter(Boolean),
      ).size;
    await waitFor(() => posted() === total, `all ${total} alerts posted after the restart`, 30_000);
    const duplicates = slack.callsOf("chat.postMessage").length - total;
    expect(duplicates).toBeLessThanOrEqual(1);
  }, 60_000);
});

describe("Redis stopped and started again under running processes", () => {
  const slack = new LocalSlack({ token: "xoxb-redis-down" });
  const procs: Proc[] = [];
  let port = 0;
  let redis: ChildProcess;
  let web: number | undefined;
  beforeAll(async () => {
    await slack.start();
    port = await freePort();
    redis = startRedis(port);
    await waitFor(() => redisAnswers(port), "the private redis-server");
    const env = {
      PORT: "0",
      REDIS_URL: `redis://127.0.0.1:${port}`,
      SLACK_BOT_TOKEN: "xoxb-redis-down",
      SLACK_SIGNING_SECRET: "redis-down-signing-secret",
      SLACK_CHANNEL: "C0REDIS",
      SLACK_API_URL: slack.apiUrl,
      SLACK_MAX_POSTS_PER_SECOND: "50",
    };
    procs.push(run("main/web.js", env), run("main/worker.js", env));
    web = await waitFor(() => procs[0]!.port(), "the web process");
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => exited(p.child)));
    redis.kill("SIGKILL");
    await slack.stop();
  }, 30_000);

  it("answers 503 within 2 s while Redis is down, and recovers without a restart", async () => {
    const post = (i: number) =>
      fetch(`http://127.0.0.1:${web}/falco`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: alertNo(i, "redis-node"),
      });
    expect((await post(1)).status).toBe(202);
    await waitFor(() => slack.callsOf("chat.postMessage").length === 1, "the first alert posted");

    redis.kill("SIGKILL");
    await waitFor(async () => !(await redisAnswers(port)), "Redis down");
    const started = Date.now();
    const down = await post(2);
    expect(down.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(down.headers.get("retry-after")).toBe("5");
    expect((await fetch(`http://127.0.0.1:${web}/readyz`)).status).toBe(503);
    expect(procs.every((p) => p.child.exitCode === null)).toBe(true);

    redis = startRedis(port);
    await waitFor(() => redisAnswers(port), "Redis back");
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${web}/readyz`)).status === 200,
      "ready again",
      15_000,
    );
    expect((await post(3)).status).toBe(202);
    await waitFor(
      () =>
        slack.callsOf("chat.postMessage").some((c) => JSON.stringify(c.args.blocks).includes("redis-node-3")),
      "the worker posting again",
      20_000,
    );
  }, 60_000);
});
