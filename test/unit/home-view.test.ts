import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { assignModal } from "../../blocks/assign-modal.js";
import { type HomeAlert, type HomeSection, alertSection, renderHome } from "../../blocks/home.js";
import { silencesHomeSection } from "../../blocks/silence.js";
import { tuningHomeSection } from "../../blocks/tune.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { parseAlertBody } from "../../src/falco/body.js";
import { slackBlockProblem, slackViewProblem } from "../../src/preview/slack-block-rules.js";

function alertFrom(path: string, uuid: string): FalcoAlert {
  const r = parseAlertBody(readFileSync(new URL(path, import.meta.url), "utf8"), "json");
  if (!r.ok) throw new Error("bad fixture");
  return { ...r.alerts[0]!, uuid };
}

const shell = alertFrom("../../examples/terminal-shell.json", "5e11a1e7-0000-4000-8000-000000000001");
const noTriage = { acknowledgedBy: null, acknowledgedAt: null, escalatedBy: null, escalatedAt: null };
const DATE = "<!date^1732266723^{date_short_pretty} at {time_secs}|2024-11-22T09:12:03.112233445Z>";
const TAKEN = "<!date^1764900000^{date_short_pretty} at {time_secs}|2025-12-05T02:00:00.000Z>";

const button = (text: string, action_id: string, style?: "primary" | "danger") => ({
  type: "button",
  text: { type: "plain_text", text, emoji: true },
  action_id,
  value: shell.uuid,
  ...(style ? { style } : {}),
});

describe("the Home tab view", () => {
  it("lists each section's alerts with the buttons that still apply for the viewer", () => {
    const mine: HomeAlert = {
      alert: shell,
      triage: { ...noTriage, ownedBy: "U0ALICE", ownedAt: "2025-12-05T02:00:00.000Z" },
      state: "new",
    };
    const view = renderHome([
      alertSection({ id: "mine", title: "Yours", empty: "You own no open alerts." }, [mine], "U0ALICE"),
      alertSection({ id: "escalated", title: "Escalated", empty: "No escalated alerts." }, [], "U0ALICE"),
    ]);
    expect(view).toEqual({
      type: "home",
      callback_id: "falco_home",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: "*Falco alerts*\nWhat is open, newest first. The buttons work as on the alert messages; `/falco mine` lists what you own.",
          },
        },
        { type: "divider" },
        { type: "header", text: { type: "plain_text", text: "Yours", emoji: true } },
        {
          type: "section",
          block_id: `home_mine_${shell.uuid}`,
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: [
              ":large_blue_circle: *Notice: Terminal shell in container*",
              `\`worker-node-2\` · ${DATE} · new · uuid \`5e11a1e7\``,
              `:bust_in_silhouette: Owned by <@U0ALICE> since ${TAKEN}`,
            ].join("\n"),
          },
        },
        {
          type: "actions",
          block_id: `home_mine_${shell.uuid}_actions`,
          elements: [
            button("Acknowledge", "falco_acknowledge", "primary"),
            button("Escalate", "falco_escalate", "danger"),
            button("Assign…", "falco_assign"),
          ],
        },
        { type: "divider" },
        { type: "header", text: { type: "plain_text", text: "Escalated", emoji: true } },
        { type: "context", elements: [{ type: "mrkdwn", verbatim: true, text: "No escalated alerts." }] },
      ],
    });
    expect(slackViewProblem(view)).toBeNull();
  });

  it("offers Take it to anyone but the owner, and no button for what is done already", () => {
    const acknowledged: HomeAlert = {
      alert: shell,
      triage: { ...noTriage, acknowledgedBy: "U0BOB", acknowledgedAt: "2025-12-05T02:00:00.000Z" },
      state: "acknowledged",
    };
    const [row] = alertSection({ id: "a", title: "A", empty: "-" }, [acknowledged], "U0ALICE").rows;
    expect(row!.buttons).toEqual([
      button("Escalate", "falco_escalate", "danger"),
      button("Take it", "falco_take"),
      button("Assign…", "falco_assign"),
    ]);
  });

  it("stays within Slack's 100 blocks with many alerts and sections, counting what it leaves out", () => {
    const many = (n: number): HomeAlert[] =>
      Array.from({ length: n }, (_, i) => ({
        alert: { ...shell, uuid: `5e11a1e7-0000-4000-8000-${String(i).padStart(12, "0")}` },
        triage: noTriage,
        state: "new",
      }));
    const sections: HomeSection[] = Array.from({ length: 9 }, (_, i) =>
      alertSection(
        { id: `s${i}`, title: `Section ${i}`, empty: "-", moreHint: "(see /falco)" },
        many(40),
        "U0X",
      ),
    );
    const view = renderHome(sections);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(slackBlockProblem(view.blocks, "home")).toBeNull();
    const text = JSON.stringify(view.blocks);
    for (let i = 0; i < 9; i++) expect(text).toContain(`Section ${i}`);
    const shown = view.blocks.filter((b) => b.type === "actions").length / 9;
    expect(text).toContain(`and ${40 - shown} more (see /falco)`);
  });

  it("keeps hostile alert text as text", () => {
    const hostile: HomeAlert = {
      alert: { ...shell, rule: "<!channel> <https://evil.example|log in> *x*", hostname: "<@U0BOSS>" },
      triage: noTriage,
      state: "new",
    };
    const text = JSON.stringify(
      renderHome([alertSection({ id: "n", title: "New", empty: "-" }, [hostile], "U0X")]),
    );
    expect(text).not.toContain("<!channel>");
    expect(text).not.toContain("<https://evil");
    expect(text).toContain("&lt;!channel&gt;");
  });
});

describe("the Home tab's silences and saved exceptions", () => {
  const ENDS = "<!date^1764907200^{date_short_pretty} at {time_secs}|2025-12-05T04:00:00.000Z>";
  const SAVED = "<!date^1764896400^{date_short_pretty} at {time_secs}|2025-12-05T01:00:00.000Z>";
  const mrkdwn = (text: string) => ({ type: "mrkdwn", verbatim: true, text });

  it("lists each active silence (scope, until, who, why, held back) with its Unsilence button, text kept text", () => {
    const section = silencesHomeSection([
      {
        id: "s-0123456789ab",
        rule: "Terminal shell in container",
        priority: "Notice",
        match: [
          { label: "Host", value: "<!channel> `evil` *x*" },
          { label: "Namespace", value: "shop" },
        ],
        createdBy: "U0ALICE",
        reason: "load test <https://evil.example|log in> @here",
        endsAt: "2025-12-05T04:00:00.000Z",
        held: 1234,
      },
    ]);
    const view = renderHome([section]);
    expect(view.blocks.slice(1)).toEqual([
      { type: "divider" },
      { type: "header", text: { type: "plain_text", text: "Active silences", emoji: true } },
      {
        type: "section",
        block_id: "home_silences_s-0123456789ab",
        text: mrkdwn(
          [
            "*Terminal shell in container* (Notice or lower) where Host `&lt;!channel&gt; ˋevilˋ *x*`, Namespace `shop`",
            `until ${ENDS} · by <@U0ALICE> · held back 1,234`,
            "_load test &lt;https://evil.example|log in&gt; @\u2060here_",
          ].join("\n"),
        ),
      },
      {
        type: "actions",
        block_id: "home_silences_s-0123456789ab_actions",
        elements: [
          {
            type: "button",
            text: { type: "plain_text", text: "Unsilence", emoji: true },
            action_id: "falco_unsilence",
            value: "s-0123456789ab",
          },
        ],
      },
    ]);
    expect(slackViewProblem(view)).toBeNull();
    expect(renderHome([silencesHomeSection([])]).blocks.slice(1)).toEqual([
      { type: "divider" },
      { type: "header", text: { type: "plain_text", text: "Active silences", emoji: true } },
      { type: "context", elements: [mrkdwn("No active silences: every alert is posted.")] },
    ]);
  });

  it("lists each saved exception (rule, test, who, when), newest first, with its Withdraw button, text kept text", () => {
    const older = {
      id: "t000000000001",
      rule: "Terminal shell in container",
      name: "debug_images",
      fields: ["container.image.repository", "k8s.ns.name"],
      comps: ["=" as const, "in" as const],
      values: ["registry.example.com/<!here>", ["shop", "a`b"]],
      alertUuid: shell.uuid,
      createdBy: "U0BOB",
      createdAt: "2025-12-04T01:00:00.000Z",
    };
    const newer = {
      ...older,
      id: "t000000000002",
      rule: "Read sensitive <@U0BOSS> file",
      name: "etc_reader",
      fields: ["proc.exepath"],
      comps: ["startswith" as const],
      values: ["/opt/*scan*"],
      createdBy: "U0CAROL",
      createdAt: "2025-12-05T01:00:00.000Z",
    };
    const view = renderHome([tuningHomeSection([older, newer])]);
    const withdraw = (id: string) => ({
      type: "actions",
      block_id: `home_tuning_${id}_actions`,
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: "Withdraw" },
          action_id: "falco_tuning_withdraw",
          value: id,
          style: "danger",
        },
      ],
    });
    const OLDER_SAVED = "<!date^1764810000^{date_short_pretty} at {time_secs}|2025-12-04T01:00:00.000Z>";
    expect(view.blocks.slice(1)).toEqual([
      { type: "divider" },
      { type: "header", text: { type: "plain_text", text: "Saved Falco exceptions", emoji: true } },
      {
        type: "section",
        block_id: "home_tuning_t000000000002",
        text: mrkdwn(
          [
            "`etc_reader` on `Read sensitive &lt;@U0BOSS&gt; file`",
            '`proc.exepath startswith "/opt/*scan*"`',
            `saved by <@U0CAROL> ${SAVED}`,
          ].join("\n"),
        ),
      },
      withdraw("t000000000002"),
      {
        type: "section",
        block_id: "home_tuning_t000000000001",
        text: mrkdwn(
          [
            "`debug_images` on `Terminal shell in container`",
            '`container.image.repository = "registry.example.com/&lt;!here&gt;" and k8s.ns.name in ("shop", "aˋb")`',
            `saved by <@U0BOB> ${OLDER_SAVED}`,
          ].join("\n"),
        ),
      },
      withdraw("t000000000001"),
    ]);
    expect(slackViewProblem(view)).toBeNull();
    expect(renderHome([tuningHomeSection([])]).blocks.slice(1)).toEqual([
      { type: "divider" },
      { type: "header", text: { type: "plain_text", text: "Saved Falco exceptions", emoji: true } },
      {
        type: "context",
        elements: [mrkdwn("No Falco exceptions are saved. Press Tune on a resolved alert to build one.")],
      },
    ]);
  });

  it("counts the silences and exceptions it leaves out, and says where to find them", () => {
    const many = Array.from({ length: 8 }, (_, i) => ({
      id: `s-${String(i).padStart(12, "0")}`,
      rule: "Terminal shell in container",
      priority: "Notice",
      match: [],
      createdBy: "U0ALICE",
      reason: "r",
      endsAt: "2025-12-05T04:00:00.000Z",
      held: 0,
    }));
    const view = renderHome([silencesHomeSection(many)]);
    expect(view.blocks.at(-1)).toEqual({
      type: "context",
      elements: [mrkdwn("and 3 more (/falco silences lists them all)")],
    });
  });
});

describe("the Assign modal", () => {
  it("asks for the owner with a user picker, starting from the current one", () => {
    const view = assignModal(shell, "U0DAVE", true);
    expect(view).toEqual({
      type: "modal",
      callback_id: "falco_assign_modal",
      private_metadata: JSON.stringify({ uuid: shell.uuid, fromHome: true }),
      title: { type: "plain_text", text: "Assign alert" },
      submit: { type: "plain_text", text: "Assign" },
      close: { type: "plain_text", text: "Cancel" },
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: `*Notice: Terminal shell in container*\nuuid \`${shell.uuid}\``,
          },
        },
        {
          type: "input",
          block_id: "owner",
          label: { type: "plain_text", text: "Owner" },
          hint: {
            type: "plain_text",
            text: "They are named on the alert message and find it in /falco mine and on their Home tab.",
          },
          element: {
            type: "users_select",
            action_id: "user",
            placeholder: { type: "plain_text", text: "Pick a person" },
            initial_user: "U0DAVE",
          },
        },
      ],
    });
    expect(slackViewProblem(view)).toBeNull();
    expect(JSON.parse(assignModal(shell, null).private_metadata)).toEqual({ uuid: shell.uuid });
    expect(JSON.stringify(assignModal(shell, null))).not.toContain("initial_user");
  });
});
