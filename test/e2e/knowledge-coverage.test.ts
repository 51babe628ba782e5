import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringifyLossless } from "../../src/falco/json.js";
import { type Harness, startHarness } from "../../support/harness.js";
import { waitFor } from "../../support/redis.js";
import { HAVE_SHARED } from "../helpers/shared-corpus.js";
import { corpusRules, syntheticAlert } from "../helpers/synthetic-alert.js";

/** What Falco would send: its JSON keys, with the alert's own uuid as falcosidekick adds one. */
function falcoJson(alert: ReturnType<typeof syntheticAlert>, uuid: string): string {
  return stringifyLossless({
    uuid,
    rule: alert.rule,
    priority: alert.priority,
    source: alert.source,
    hostname: alert.hostname,
    time: alert.time,
    output: alert.output,
    output_fields: alert.outputFields,
    tags: alert.tags,
  });
}

describe.skipIf(!HAVE_SHARED)(
  "every official rule in scope, through ingest, enrichment and Slack (skipped when ../shared/falco is absent)",
  () => {
    // All 242: the 97 syscall rules and the 145 rules of the k8saudit, cloudtrail, gcpaudit, okta and github plugins.
    const rules = HAVE_SHARED ? corpusRules() : [];
    const uuidOf = (i: number) => `00c0ffee-0000-4000-8000-${String(i).padStart(12, "0")}`;
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness("kb-coverage", { env: { SLACK_MAX_POSTS_PER_SECOND: "200" } });
    });
    afterAll(async () => {
      await h?.stop();
    });

    it("answers enrichment.match = rule for each, and posts a message Slack accepts", async () => {
      expect(rules).toHaveLength(242);
      const body = rules.map((r, i) => falcoJson(syntheticAlert(r), uuidOf(i))).join("\n");
      const res = await h.postAlerts(body, { "content-type": "application/x-ndjson" });
      expect(res.status).toBe(202);
      expect(((await res.json()) as { accepted: number }).accepted).toBe(rules.length);

      const notByRule: string[] = [];
      for (const [i, rule] of rules.entries()) {
        const got = (await (await h.getAlert(uuidOf(i))).json()) as {
          rule: string;
          enrichment: { match: string };
        };
        expect(got.rule).toBe(rule.name);
        if (got.enrichment.match !== "rule") notByRule.push(`${rule.name}: ${got.enrichment.match}`);
      }
      expect(notByRule).toEqual([]);

      for (const i of rules.keys())
        await waitFor(
          async () => ((await (await h.getAlert(uuidOf(i))).json()) as { slack: unknown }).slack,
          `${rules[i]!.name} posted`,
          30_000,
        );
      // The fake Slack checks blocks as Slack does; a rejected message would have been posted again, reduced.
      expect(h.slack!.callsOf("chat.postMessage")).toHaveLength(rules.length);
    });
  },
);
