import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalSlack } from "../../src/preview/local-slack.js";
import { exited, type Proc, ROOT, run } from "../../support/processes.js";
import { dropPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from "../../support/redis.js";

const sample = JSON.parse(readFileSync(resolve(ROOT, "examples/terminal-shell.json"), "utf8")) as Record<
  string,
  unknown
>;
const uuidNo = (i: number) => `dead0000-0000-4000-8000-${String(i).padStart(12, "0")}`;
const CHANNEL = "C0TAKEOVER";

describe("a worker killed with SIGKILL while it holds delivery jobs, beside a running worker", () => {
  const slack = new LocalSlack({ token: "xoxb-takeover" });
  const prefix = uniquePrefix("takeover");
  const procs: Proc[] = [];
  let releaseHeld = () => {};
  const held = new Promise<void>((r) => (releaseHeld = r));
  const env = {
    PORT: "0",
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    SLACK_BOT_TOKEN: "xoxb-takeover",
    SLACK_SIGNING_SECRET: "takeover-signing-secret",
    SLACK_CHANNEL: CHANNEL,
    SLACK_MAX_POSTS_PER_SECOND: "100",
    GROUP_WINDOW_SECONDS: "0",
    DEDUPE_WINDOW_SECONDS: "0",
    // JOB_LOCK_SECONDS is left at its default: that is what this test checks.
  };
  beforeAll(async () => {
    await slack.start();
    procs.push(run("main/web.js", { ...env, SLACK_API_URL: slack.apiUrl }));
    await waitFor(() => procs[0]!.port(), "the web process");
  });
  afterAll(async () => {
    releaseHeld();
    for (const p of procs) p.child.kill("SIGTERM");
    await Promise.all(procs.map((p) => exited(p.child)));
    await slack.stop();
    await dropPrefix(prefix);
  }, 30_000);

  it("hands its jobs to the other worker, which posts every alert exactly once within ~20 s", async () => {
    const total = 5;
    // Slack takes the doomed worker's posts and never answers them: it holds all five jobs.
    slack.script(
      "chat.postMessage",
      ...Array.from({ length: total }, () => ({ status: 500 as const, holdUntil: held })),
    );
    const victim = run("main/worker.js", { ...env, SLACK_API_URL: slack.apiUrl });
    procs.push(victim);
    const body = Array.from({ length: total }, (_, i) =>
      JSON.stringify({ ...sample, uuid: uuidNo(i), hostname: `takeover-node-${i}` }),
    ).join("\n");
    const res = await fetch(`http://127.0.0.1:${procs[0]!.port()}/falco`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    });
    expect(res.status).toBe(202);
    await waitFor(() => slack.callsOf("chat.postMessage").length === total, "the held posts");

    // The survivor starts while the victim holds every job, so it can take none of them but by
    // taking them over.
    const survivor = run("main/worker.js", { ...env, SLACK_API_URL: slack.apiUrl });
    procs.push(survivor);
    await waitFor(() => survivor.out.join("").includes("worker posting to Slack"), "the second worker");
    victim.child.kill("SIGKILL");
    await exited(victim.child);

    const posted = () =>
      (slack.channels.get(CHANNEL)?.messages ?? []).map(
        (m) => (m.metadata as { event_payload?: { uuid?: string } } | null)?.event_payload?.uuid,
      );
    // A generous wait, not a timing check: `npm run bench:storm` measures the takeover (goal: 15 s).
    await waitFor(() => posted().length >= total, "every alert posted by the second worker", 20_000);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would show by now
    expect([...posted()].sort()).toEqual(Array.from({ length: total }, (_, i) => uuidNo(i)));
    const survivorLog = survivor.out.join("");
    for (let i = 0; i < total; i++) expect(survivorLog).toContain(uuidNo(i));
  }, 60_000);
});
