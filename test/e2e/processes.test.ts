import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSlack } from "../../src/preview/local-slack.js";
import { postedUuids } from "../helpers/posted-uuids.js";
import { dist, exited, freePort, type Proc, ROOT, run } from "../../support/processes.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

const memfd = readFileSync(resolve(ROOT, "examples/memfd-create.json"), "utf8");

/** The built CLI, run from the project's root as a user would run it. */
const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, [dist("cli/main.js"), ...args], { cwd: ROOT, input, encoding: "utf8" });

describe("the CLI", () => {
  it("renders Block Kit for a file and for stdin, without Redis or Slack", () => {
    const file = cli(["render", "examples/memfd-create.json"]);
    expect(file.status).toBe(0);
    const message = JSON.parse(file.stdout) as { text: string; blocks: { type: string }[] };
    expect(message.text).toBe("Critical: Fileless execution via memfd_create on worker-node-1");
    expect(message.blocks[0]!.type).toBe("header");

    const stdin = cli(["render", "--expanded", "-"], memfd);
    expect(stdin.status).toBe(0);
    expect(stdin.stdout).toContain("How to investigate");
  });

  it("explains a bad alert and a bad command with a non-zero exit", () => {
    const bad = cli(["render", "-"], '{"rule":"x"}');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("alert[0].priority: is required and must be a string");
    const usage = cli(["frobnicate"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("Usage:");
    const lint = cli(["kb", "lint"]);
    expect(lint.status).toBe(0);
    expect(lint.stdout).toMatch(/no problems found/);
    const demo = cli(["demo", "http://127.0.0.1:1"]);
    expect(demo.status).toBe(1);
    expect(demo.stderr).toContain("is falco-chatops running at http://127.0.0.1:1?");
    const noToken = cli(["demo", "--token"]);
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toBe(
      "falco-chatops: demo: Option '--token <value>' argument missing\nUsage: falco-chatops demo [url] [--token T]\n",
    );
  });
});

describe("npm start (all in one)", () => {
  it("exits 1 with one message naming every bad variable", async () => {
    const p = run("main/all-in-one.js", { PORT: "-1", SLACK_BOT_TOKEN: "xoxb-x", LOG_LEVEL: "verbose" });
    expect(await exited(p.child)).toBe(1);
    const text = p.out.join("");
    expect(text).toContain("Invalid configuration (4 problems)");
    for (const name of ["PORT", "LOG_LEVEL", "SLACK_CHANNEL", "SLACK_SIGNING_SECRET"])
      expect(text).toContain(`- ${name} `);
  });

  it("runs in preview mode without a Slack token and shuts down cleanly on SIGTERM", async () => {
    const prefix = uniquePrefix("start");
    const p = run("main/all-in-one.js", { PORT: "0", REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix });
    try {
      const port = await waitFor(p.port, "the listening port");
      await waitFor(() => p.out.join("").includes("PREVIEW MODE"), "the preview banner");
      const res = await fetch(`http://127.0.0.1:${port}/falco`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: memfd,
      });
      expect(res.status).toBe(202);
      await waitFor(
        () =>
          p.out.join("").includes("[preview] #falco-alerts: Critical: Fileless execution via memfd_create"),
        "the preview in the console",
      );
      expect(p.out.join("")).toContain("peaceful_mestorf");
      // The log says where the message went: nothing reached Slack.
      await waitFor(
        () => p.out.join("").includes("alert posted to the local preview workspace"),
        "the delivery log line",
      );
      expect(p.out.join("")).not.toContain("alert posted to Slack");
      p.child.kill("SIGTERM");
      expect(await exited(p.child)).toBe(0);
    } finally {
      p.child.kill("SIGKILL");
      await dropPrefix(prefix);
    }
  });
});

describe("start-up while Slack does not answer", () => {
  it("keeps serving, says what is wrong, and does not crash (Bolt's own token check would)", async () => {
    const prefix = uniquePrefix("no-slack");
    const p = run("main/web.js", {
      PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SLACK_BOT_TOKEN: "xoxb-unreachable",
      SLACK_SIGNING_SECRET: "signing-secret-for-tests",
      SLACK_CHANNEL: "C0ALERTS",
      SLACK_API_URL: `http://127.0.0.1:${await freePort()}/api/`,
    });
    try {
      const port = await waitFor(p.port, "the listening port");
      await waitFor(
        () => p.out.join("").includes("could not be reached at start-up"),
        "the start-up warning",
      );
      const res = await fetch(`http://127.0.0.1:${port}/falco`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: memfd,
      });
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 1500));
      expect(p.child.exitCode).toBeNull();
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      p.child.kill("SIGKILL");
      await dropPrefix(prefix);
    }
  });
});

describe("Procfile: several web and worker processes on one Redis", () => {
  const slack = new LocalSlack({ token: "xoxb-procs" });
  const prefix = uniquePrefix("procs");
  const procs: Proc[] = [];
  /** Each worker serves its own metrics (WORKER_METRICS_PORT), as a Procfile worker has no web server. */
  const metricsPorts: number[] = [];
  beforeAll(async () => {
    await slack.start();
    metricsPorts.push(await freePort(), await freePort());
    const env = {
      PORT: "0",
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      SLACK_BOT_TOKEN: "xoxb-procs",
      SLACK_SIGNING_SECRET: "procs-signing-secret-123",
      SLACK_CHANNEL: "C0PROCS",
      SLACK_API_URL: slack.apiUrl,
      SLACK_MAX_POSTS_PER_SECOND: "100",
      INGEST_TOKEN: "procs-ingest-token-123456",
      // The same sample alert twenty times: one message each is what this test checks.
      GROUP_WINDOW_SECONDS: "0",
      DEDUPE_WINDOW_SECONDS: "0",
    };
    procs.push(
      run("main/web.js", env),
      run("main/web.js", env),
      run("main/worker.js", { ...env, WORKER_METRICS_PORT: String(metricsPorts[0]) }),
      run("main/worker.js", { ...env, WORKER_METRICS_PORT: String(metricsPorts[1]) }),
    );
    await waitFor(() => procs[0]!.port() && procs[1]!.port(), "both web processes");
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => exited(p.child)));
    await slack.stop();
    await dropPrefix(prefix);
  });

  it("posts every alert exactly once, whichever web process took it", async () => {
    const uuids = Array.from(
      { length: 20 },
      (_, i) => `5ca1ab1e-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    await Promise.all(
      uuids.map(async (uuid, i) => {
        const port = procs[i % 2]!.port();
        const res = await fetch(`http://127.0.0.1:${port}/falco?token=procs-ingest-token-123456`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ...JSON.parse(memfd), uuid }),
        });
        expect(res.status).toBe(202);
      }),
    );
    expect((await postedUuids(slack, uuids)).sort()).toEqual([...uuids].sort());

    // Between them, the two workers' metrics count every post.
    const postsCounted = await Promise.all(
      metricsPorts.map(async (port) => {
        const res = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
        const m = /^falco_chatops_slack_calls_total\{method="chat\.postMessage",outcome="ok"\} (\d+)$/m.exec(
          await res.text(),
        );
        return m ? Number(m[1]) : 0;
      }),
    );
    expect(postsCounted[0]! + postsCounted[1]!).toBe(20);
    expect((await fetch(`http://127.0.0.1:${metricsPorts[0]}/alerts/${uuids[0]}`)).status).toBe(404);
  });
});
