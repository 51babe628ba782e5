import { describe, expect, it } from "vitest";
import { limitProblems } from "../../blocks/limits.js";
import {
  renderRollupMessage,
  rollupEscalation,
  rollupReportMessages,
  rollupResolveModal,
  type RollupView,
} from "../../blocks/rollup-message.js";

const view: RollupView = {
  id: "7b1d0000-0000-4000-8000-000000000004",
  rule: "Read sensitive file untrusted",
  priority: "Warning",
  firstSeen: "2026-12-06T10:00:00.000Z",
  lastSeen: "2026-12-06T10:04:30.000Z",
  occurrences: 1210,
  groups: 1000,
  hosts: {
    count: 1000,
    busiest: [
      { name: "node-042", occurrences: 12 },
      { name: "node-007", occurrences: 9 },
    ],
  },
  pods: { count: 0, busiest: [] },
  namespaces: { count: 1, busiest: [{ name: "payments", occurrences: 1210 }] },
  open: true,
  acknowledgedBy: null,
  acknowledgedAt: null,
  escalatedBy: null,
  escalatedAt: null,
  resolution: null,
};

const date = (iso: string) =>
  `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} at {time_secs}|${iso}>`;

/** Every mrkdwn text of a payload (plain_text is never parsed for mentions or links). */
function mrkdwnTexts(payload: unknown): string[] {
  const out: string[] = [];
  JSON.stringify(payload, (_key, value: unknown) => {
    const t = value as { type?: unknown; text?: unknown };
    if (t && t.type === "mrkdwn" && typeof t.text === "string") out.push(t.text);
    return value;
  });
  return out;
}

describe("fleet roll-up message", () => {
  it("renders the complete expected payload", () => {
    const id = view.id;
    const button = (text: string, action_id: string, style?: string) => ({
      type: "button",
      text: { type: "plain_text", text, emoji: true },
      action_id,
      value: id,
      ...(style ? { style } : {}),
    });
    expect(renderRollupMessage(view)).toEqual({
      text: "Warning: Read sensitive file untrusted on 1,000 hosts (1,210 occurrences)",
      blocks: [
        {
          type: "header",
          text: {
            type: "plain_text",
            text: ":warning: Warning across the fleet: Read sensitive file untrusted",
            emoji: true,
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            text: "*Read sensitive file untrusted* fired on *1,000 hosts* (0 pods, 1 namespace): *1,210 occurrences* in 1,000 groups. Its new groups join this message instead of posting their own.",
            verbatim: true,
          },
        },
        {
          type: "section",
          fields: [
            {
              type: "mrkdwn",
              text: "*Busiest hosts (1,000)*\n• `node-042` 12\n• `node-007` 9\n_and 998 more_",
              verbatim: true,
            },
            { type: "mrkdwn", text: "*Busiest namespaces (1)*\n• `payments` 1,210", verbatim: true },
          ],
        },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: `:repeat: first ${date(view.firstSeen)} · last ${date(view.lastSeen)} · roll-up \`${id}\``,
              verbatim: true,
            },
          ],
        },
        {
          type: "actions",
          block_id: "falco_rollup_actions",
          elements: [
            button("Acknowledge all", "falco_rollup_acknowledge", "primary"),
            button("Escalate", "falco_rollup_escalate", "danger"),
            button("Resolve all", "falco_rollup_resolve"),
            button("Full report", "falco_rollup_report"),
            button("Silence", "falco_rollup_silence"),
          ],
        },
      ],
    });
  });

  it("shows who acted on every member, and once resolved offers only the report", () => {
    const message = renderRollupMessage({
      ...view,
      open: false,
      acknowledgedBy: "U0ALICE",
      acknowledgedAt: "2026-12-06T10:05:00.000Z",
      resolution: {
        verdict: "false_positive",
        note: "scanner <!here>",
        by: "U0BOB",
        at: "2026-12-06T10:10:00.000Z",
      },
    });
    const text = mrkdwnTexts(message).join("\n");
    expect(text).toContain("Acknowledged by <@U0ALICE>");
    expect(text).toContain("Resolved as *false positive* by <@U0BOB>");
    expect(text).toContain("scanner &lt;!here&gt;");
    expect(text).toContain("This roll-up is closed");
    const actions = message.blocks.find((b) => b.type === "actions");
    expect(actions?.type === "actions" && actions.elements.map((e) => e.action_id)).toEqual([
      "falco_rollup_report",
    ]);
  });

  it("keeps within Slack's limits whatever the number of members and names", () => {
    const long = "x".repeat(100_000);
    for (const count of [1_000, 100_000]) {
      const busiest = Array.from({ length: 5 }, (_, i) => ({ name: `${long}-${i}`, occurrences: count - i }));
      const message = renderRollupMessage({
        ...view,
        rule: long,
        occurrences: count * 7,
        groups: count,
        hosts: { count, busiest },
        pods: { count, busiest },
        namespaces: { count, busiest },
      });
      expect(limitProblems(message.blocks)).toEqual([]);
      expect(message.blocks).toHaveLength(5);
      expect(message.text.length).toBeLessThanOrEqual(3000);
      expect(JSON.stringify(message)).toContain(`_and ${(count - 5).toLocaleString("en-US")} more_`);
    }
  });

  it("shows hostile, empty and odd names as text", () => {
    const hostile = [
      "<!channel>",
      "<https://evil.example|click me>",
      "<@U0VICTIM>",
      "@here",
      "",
      "`tick` *b* _i_ ~s~",
      "a\nb\tc",
    ];
    const busiest = hostile.map((name, i) => ({ name, occurrences: 10 - i }));
    const message = renderRollupMessage({
      ...view,
      rule: "<!everyone> rule @channel",
      hosts: { count: hostile.length, busiest },
      pods: { count: hostile.length, busiest },
      namespaces: { count: hostile.length, busiest },
    });
    const text = [message.text, ...mrkdwnTexts(message)].join("\n");
    expect(text).not.toMatch(/<!channel>|<!everyone>|<https:|<@U0VICTIM>/);
    expect(text).not.toMatch(/@(here|channel|everyone)\b/);
    expect(text).toContain("&lt;https://evil.example|click me&gt;");
    expect(text).toContain("_(empty)_");
    expect(limitProblems(message.blocks)).toEqual([]);
  });

  it("lists members in the thread in messages that fit, and says where the rest are", () => {
    const members = Array.from({ length: 200 }, (_, i) => ({
      leader: `uuid-${i}`,
      host: i % 2 ? "h".repeat(5000) : "<!channel>",
      pod: "",
      namespace: "payments",
      occurrences: 200 - i,
    }));
    const messages = rollupReportMessages(view, members, {
      omitted: 99_800,
      route: `GET /rollups/${view.id}`,
    });
    for (const m of messages) expect(limitProblems(m.blocks)).toEqual([]);
    const text = messages.flatMap((m) => mrkdwnTexts(m)).join("\n");
    for (const m of members) expect(text).toContain(`\`${m.leader}\``);
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("99,800 more members");
    expect(text).toContain(`GET /rollups/${view.id}`);
  });

  it("escalation and the Resolve modal stay within limits and escape the rule", () => {
    const hostileView = { ...view, rule: `<!channel> ${"r".repeat(5000)}` };
    const escalation = rollupEscalation(hostileView, "U0ALICE", "https://example.slack.com/archives/C1/p1");
    expect(limitProblems(escalation.blocks)).toEqual([]);
    expect(mrkdwnTexts(escalation).join("\n")).not.toContain("<!channel>");
    expect(mrkdwnTexts(escalation).join("\n")).toContain(
      "<https://example.slack.com/archives/C1/p1|View the roll-up>",
    );
    const modal = rollupResolveModal(hostileView, { rollup: view.id, channel: "C1", ts: "1.2" });
    expect(JSON.parse(modal.private_metadata)).toEqual({ rollup: view.id, channel: "C1", ts: "1.2" });
    expect(mrkdwnTexts(modal).join("\n")).not.toContain("<!channel>");
    expect(mrkdwnTexts(modal).every((t) => t.length <= 3000)).toBe(true);
  });
});
