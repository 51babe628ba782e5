import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";

/** pino's JSON lines, each about one alert, must say which alert and which queue job. */
describe("logs about an alert", () => {
  const lines: string[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("logs", { logLines: lines });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("carry the alert's uuid and the job id on every line, rate limits and retries included", async () => {
    h.slack!.script("chat.postMessage", { status: 429, retryAfter: 1 });
    const res = await h.postAlerts(
      JSON.stringify({
        rule: "Terminal shell in container",
        priority: "Notice",
        time: new Date().toISOString(),
        output: "shell",
        output_fields: { "proc.name": "bash", "container.id": "abc123abc123" },
      }),
    );
    const [uuid] = ((await res.json()) as { uuids: string[] }).uuids;
    await waitFor(
      async () => ((await (await h.getAlert(uuid!)).json()) as { slack: unknown }).slack,
      "the post after the 429",
    );
    const about = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => JSON.stringify(l).includes(uuid!));
    const messages = about.map((l) => l.msg);
    expect(messages).toContain("Slack rate limit: delaying deliveries");
    expect(messages).toContain("alert posted to Slack");
    for (const line of about) {
      expect(line.uuid, String(line.msg)).toBe(uuid);
      expect(line.jobId, String(line.msg)).toBe(uuid); // a post's job id is the alert's uuid
    }
  });
});
