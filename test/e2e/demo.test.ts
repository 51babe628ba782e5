import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo } from "../../src/cli/demo.js";
import { type Harness, startHarness } from "../../support/harness.js";
import { dist, ROOT } from "../../support/processes.js";
import { waitFor } from "../../support/redis.js";

describe("falco-chatops demo", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("demo", {
      env: {
        GROUP_WINDOW_SECONDS: "600",
        DEDUPE_WINDOW_SECONDS: "600",
        GROUP_UPDATE_SECONDS: "1",
        INGEST_TOKEN: "demo-token-0123456789",
      },
    });
  });
  afterAll(async () => {
    await h.stop();
  });

  it("sends the samples and a storm that becomes one message counting 50", async () => {
    const lines = await runDemo(h.base, "demo-token-0123456789");
    expect(lines).toEqual([
      "fileless execution via memfd_create: 1 accepted",
      "terminal shell in a container: 1 accepted",
      "AWS root console sign-in without MFA: 1 accepted",
      "a storm of 50 shells in one container: 50 accepted",
    ]);
    await waitFor(() => h.slack!.callsOf("chat.postMessage").length >= 4, "four messages");
    // Shown by the first post when all 50 arrived before it, else by an update.
    await waitFor(
      () =>
        [...h.slack!.callsOf("chat.postMessage"), ...h.slack!.callsOf("chat.update")].some((c) =>
          JSON.stringify(c.args.blocks).includes("50 occurrences"),
        ),
      "the storm's counter at 50",
    );
    expect(h.slack!.callsOf("chat.postMessage")).toHaveLength(4);
    // The CloudTrail alert is laid out for its source: account, principal, source IP; no host row.
    const cloud = h
      .slack!.callsOf("chat.postMessage")
      .find((c) => JSON.stringify(c.args.blocks).includes("Console Root Login Without MFA"));
    const blocks = JSON.stringify(cloud?.args.blocks);
    expect(blocks).toContain("*Principal*");
    expect(blocks).toContain("203.0.113.57");
    expect(blocks).not.toContain("*Host*");
    await expect(runDemo(h.base, "wrong-token-0123456789")).rejects.toThrow(/answered 401/);
  });

  it("takes the token as --token=T and as --token T from the command line", async () => {
    // Not spawnSync: the server answering the CLI runs in this process.
    const cli = (...args: string[]) =>
      promisify(execFile)(process.execPath, [dist("cli/main.js"), "demo", ...args], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? "" },
      });
    const accepted = [
      "fileless execution via memfd_create: 1 accepted",
      "terminal shell in a container: 1 accepted",
      "AWS root console sign-in without MFA: 1 accepted",
      "a storm of 50 shells in one container: 50 accepted",
      `See them in Slack, or in preview mode at ${h.base}/preview?token=<INGEST_TOKEN>.`,
      "",
    ].join("\n");
    expect((await cli("--token=demo-token-0123456789", h.base)).stdout).toBe(accepted);
    expect((await cli(h.base, "--token", "demo-token-0123456789")).stdout).toBe(accepted);
    // The token given is the one sent: a wrong one is refused by the server.
    await expect(cli(`--token=wrong-token-0123456789`, h.base)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("answered 401"),
    });
  });
});
