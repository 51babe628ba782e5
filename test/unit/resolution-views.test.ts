import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACTIONS, type AlertView, renderAlertMessage } from "../../blocks/alert-message.js";
import { limitProblems } from "../../blocks/limits.js";
import { renderLookup } from "../../blocks/lookup.js";
import { renderResolveModal } from "../../blocks/resolve-modal.js";
import { reportMessages } from "../../blocks/report.js";
import { enrich } from "../../src/enrich/enrich.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { slackViewProblem } from "../../src/preview/slack-block-rules.js";
import { reportHtml } from "../../src/report/html.js";
import { reportMarkdown } from "../../src/report/markdown.js";
import { buildReport } from "../../src/report/report.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";

const kb = shippedKnowledgeBase();
const noTriage = { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null };
const AT = "2026-11-22T10:00:00.000Z";
const DATE = "<!date^1795341600^{date_short_pretty} at {time_secs}|2026-11-22T10:00:00.000Z>";

function memfd(): FalcoAlert {
  const text = readFileSync(new URL("../../examples/memfd-create.json", import.meta.url), "utf8");
  const r = parseAlertBody(text, "json");
  if (!r.ok) throw new Error("bad fixture");
  return r.alerts[0]!;
}

function view(extra: Partial<AlertView>): AlertView {
  const alert = memfd();
  return { alert, enrichment: enrich(alert, kb), triage: noTriage, expanded: false, ...extra };
}

const button = (text: string, action_id: string, value: string, style?: string) => ({
  type: "button",
  text: { type: "plain_text", text, emoji: true },
  action_id,
  value,
  ...(style ? { style } : {}),
});

describe("the Resolve modal", () => {
  it("asks for a verdict and an optional, capped note, and carries the alert and its message", () => {
    const alert = { ...memfd(), rule: "Rule <!channel> *x*" };
    const modal = renderResolveModal(alert, {
      uuid: alert.uuid,
      channel: "C0ALERTS",
      ts: "1700000000.000100",
    });
    const pt = (text: string) => ({ type: "plain_text", text, emoji: true });
    expect(modal).toEqual({
      type: "modal",
      callback_id: "falco_resolve_modal",
      private_metadata: JSON.stringify({ uuid: alert.uuid, channel: "C0ALERTS", ts: "1700000000.000100" }),
      title: pt("Resolve alert"),
      submit: pt("Resolve"),
      close: pt("Cancel"),
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: `:red_circle: *Critical: Rule &lt;!channel&gt; *x**\nuuid \`${alert.uuid}\``,
          },
        },
        {
          type: "input",
          block_id: "falco_resolve_verdict",
          label: pt("Verdict"),
          hint: pt(
            "False positive and expected activity offer Tune on the message, so that this case stops alerting.",
          ),
          element: {
            type: "radio_buttons",
            action_id: "falco_verdict",
            options: [
              {
                text: pt("True positive"),
                value: "true_positive",
                description: pt("Real activity that needed a response"),
              },
              {
                text: pt("False positive"),
                value: "false_positive",
                description: pt("The rule matched something it should not have"),
              },
              {
                text: pt("Expected activity"),
                value: "expected_activity",
                description: pt("Real, and known and approved (a deploy, an admin task)"),
              },
              {
                text: pt("Duplicate"),
                value: "duplicate",
                description: pt("The same incident is worked under another alert"),
              },
            ],
          },
        },
        {
          type: "input",
          block_id: "falco_resolve_note",
          optional: true,
          label: pt("Note"),
          hint: pt(
            "Optional, at most 1,000 characters: what you found and did, for whoever sees this alert next. It is shown in the message's thread.",
          ),
          element: { type: "plain_text_input", action_id: "falco_note", multiline: true, max_length: 1000 },
        },
      ],
    });
    expect(slackViewProblem(modal)).toBeNull();
    // Slack refuses an option description over 75 characters; the local Slack does too.
    const long = structuredClone(modal) as unknown as { blocks: { element?: { options?: object[] } }[] };
    long.blocks[1]!.element!.options![0] = {
      text: pt("True positive"),
      value: "true_positive",
      description: pt("d".repeat(76)),
    };
    expect(slackViewProblem(long)).toBe("option description must be 1-75 characters of plain_text");
  });
});

describe("a resolved alert message", () => {
  it("shows the outcome with the escaped, cut note, and offers Reopen and Tune instead of triage", () => {
    const v = view({
      triage: { ...noTriage, acknowledgedBy: "U0BOB", acknowledgedAt: AT },
      resolution: { verdict: "false_positive", note: `<!here> ${"n".repeat(600)}`, by: "U0ALICE", at: AT },
    });
    const { blocks } = renderAlertMessage(v);
    const uuid = v.alert.uuid;
    expect(blocks.at(-1)).toEqual({
      type: "actions",
      block_id: "falco_actions",
      elements: [
        button("Reopen", ACTIONS.reopen, uuid),
        button("Tune", ACTIONS.tune, uuid),
        button("Show mitigation steps", ACTIONS.expand, uuid),
        button("Full report", ACTIONS.report, uuid),
        button("Silence", ACTIONS.silence, uuid),
      ],
    });
    expect(blocks.at(-2)).toEqual({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          verbatim: true,
          text: `:checkered_flag: Resolved as *false positive* by <@U0ALICE> at ${DATE}`,
        },
        { type: "mrkdwn", verbatim: true, text: `*Note:* &lt;!here&gt; ${"n".repeat(491)}…` },
      ],
    });
    // Who acknowledged it stays on the message.
    expect(JSON.stringify(blocks)).toContain("Acknowledged by <@U0BOB>");
    expect(limitProblems(blocks)).toEqual([]);
  });

  it("offers no Tune for a true positive or a duplicate, and Resolve while open", () => {
    for (const verdict of ["true_positive", "duplicate"] as const) {
      const { blocks } = renderAlertMessage(
        view({ resolution: { verdict, note: null, by: "U0A1", at: AT } }),
      );
      const actions = blocks.at(-1) as { elements: { action_id: string }[] };
      expect(actions.elements.map((e) => e.action_id)).toEqual([
        ACTIONS.reopen,
        ACTIONS.expand,
        ACTIONS.report,
        ACTIONS.silence,
      ]);
      expect(JSON.stringify(blocks)).not.toContain("*Note:*");
    }
    const open = renderAlertMessage(view({})).blocks.at(-1) as { elements: { action_id: string }[] };
    expect(open.elements.map((e) => e.action_id)).toEqual([
      ACTIONS.acknowledge,
      ACTIONS.escalate,
      ACTIONS.resolve,
      ACTIONS.expand,
      ACTIONS.report,
      ACTIONS.take,
      ACTIONS.assign,
      ACTIONS.silence,
    ]);
  });

  it("says a new occurrence follows a resolved one, linking only an https permalink", () => {
    const line = (permalink: string | null, resolved = true) =>
      renderAlertMessage(
        view({
          previous: {
            uuid: "0000aaaa-0000-4000-8000-000000000001",
            resolution: resolved ? { verdict: "expected_activity", note: "x", by: "U0ALICE", at: AT } : null,
            permalink,
          },
        }),
      ).blocks.at(-2);
    expect(line("https://example.slack.com/archives/C1/p1")).toEqual({
      type: "context",
      elements: [
        {
          type: "mrkdwn",
          verbatim: true,
          text: `:leftwards_arrow_with_hook: The previous occurrence was resolved as *expected activity* by <@U0ALICE> at ${DATE}; this is a new one. <https://example.slack.com/archives/C1/p1|Open its message>`,
        },
      ],
    });
    for (const permalink of ["/preview#msg-C1-1-000001", "javascript:alert(1)", null])
      expect(JSON.stringify(line(permalink))).toContain("Its uuid: `0000aaaa-0000-4000-8000-000000000001`");
    expect(JSON.stringify(line(null, false))).toContain(
      "Follows an earlier occurrence of this alert, reopened since.",
    );
  });
});

describe("the outcome elsewhere", () => {
  const resolution = {
    verdict: "true_positive" as const,
    note: "<b>rotated</b> `keys`",
    by: "U0ALICE",
    at: AT,
  };

  it("is in the lookup", () => {
    const alert = memfd();
    const lookup = renderLookup({
      alert,
      triage: noTriage,
      state: "resolved",
      permalink: null,
      posted: true,
      resolution,
    });
    const text = (lookup.blocks[0] as { text: { text: string } }).text.text;
    expect(text).toContain(`*State:* resolved`);
    expect(text).toContain(
      `*Resolved:* *true positive* by <@U0ALICE> at ${DATE}\n*Note:* &lt;b&gt;rotated&lt;/b&gt; \`keys\``,
    );
  });

  it("is in the report, as Markdown, HTML and Block Kit, the note as untrusted text", () => {
    const alert = memfd();
    const report = buildReport(alert, enrich(alert, kb), kb, resolution);
    expect(report.outcome).toEqual({ ...resolution, label: "true positive" });
    const md = reportMarkdown(report);
    expect(md).toContain(
      "## Outcome\n\n- **Verdict:** true positive\n- **Resolved by:** `U0ALICE` at `2026-11-22T10:00:00.000Z`\n\nTheir note:\n\n```\n<b>rotated</b> `keys`\n```\n",
    );
    const html = reportHtml(report);
    expect(html).toContain(
      "<h2>Outcome</h2>\n<ul>\n<li><strong>Verdict:</strong> true positive</li>\n<li><strong>Resolved by:</strong> <code>U0ALICE</code> at <code>2026-11-22T10:00:00.000Z</code></li>\n</ul>\n<p>Their note:</p>\n<pre><code>&lt;b&gt;rotated&lt;/b&gt; `keys`</code></pre>",
    );
    const slack = JSON.stringify(reportMessages(report).map((m) => m.blocks));
    expect(slack).toContain(
      `*Outcome*\\n*Verdict:* true positive\\n*Resolved by:* <@U0ALICE> at ${DATE.replaceAll('"', '\\"')}`,
    );
    expect(slack).toContain("&lt;b&gt;rotated&lt;/b&gt;");
    expect(reportMarkdown(buildReport(alert, enrich(alert, kb), kb))).not.toContain("## Outcome");
  });
});
