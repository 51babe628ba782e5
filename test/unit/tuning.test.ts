import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  renderReplayView,
  renderTuneModal,
  renderTuningList,
  TUNE_CALLBACKS,
  TUNING_ACTIONS,
} from "../../blocks/tune.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { slackBlockProblem, slackViewProblem } from "../../src/preview/slack-block-rules.js";
import {
  buildException,
  type DraftRow,
  exceptionMatches,
  offeredFields,
  type TuningException,
} from "../../src/tuning/exception.js";
import { additionProposal } from "../../src/tuning/proposal.js";
import { replayException, type ReplayResult } from "../../src/tuning/replay.js";
import { RULES_FILE_HEADER, tuningRulesYaml } from "../../src/tuning/rules-file.js";
import { loadConfig } from "../../src/config/config.js";
import { shippedKnowledgeBase } from "../helpers/knowledge.js";

const kb = shippedKnowledgeBase();
const RULE = "Terminal shell in container";

function shellAlert(fields: FalcoAlert["outputFields"], over: Partial<FalcoAlert> = {}): FalcoAlert {
  return {
    uuid: "5e11a1e7-0000-4000-8000-000000000001",
    uuidGenerated: false,
    rule: RULE,
    priority: "Notice",
    source: "syscall",
    hostname: "node-1",
    time: "2026-12-02T10:00:00.000000000Z",
    timeDerivedFrom: "alert",
    output: "A shell was spawned",
    outputFields: fields,
    tags: [],
    repairs: [],
    ...over,
  };
}

const META = {
  id: "t0123456789ab",
  alertUuid: "5e11a1e7",
  createdBy: "U0ALICE",
  createdAt: "2026-12-02T10:00:00.000Z",
};
const row = (field: string, value: string, comp = "=", include = true): DraftRow => ({
  field,
  include,
  comp,
  value,
});

describe("the fields Tune offers", () => {
  it("offers the entry's exception fields first (suggested), then the alert's stable fields, never what the process chooses", () => {
    const alert = shellAlert({
      "proc.name": "bash",
      "proc.pname": "runc",
      "proc.cmdline": "bash -i",
      "proc.exe": "bash",
      "proc.args": "-i",
      "proc.cwd": "/",
      "proc.exepath": "/usr/bin/bash",
      "user.uid": 0,
      "container.id": "4f0e5b1a9c2d",
      "container.image.repository": "registry.example.com/shop/web",
      "k8s.ns.name": "shop",
      "k8s.pod.name": "<NA>",
      "fd.name": "x".repeat(3001),
    });
    expect(offeredFields(alert, kb.byRule.get(RULE))).toEqual([
      { field: "container.image.repository", value: "registry.example.com/shop/web", suggested: true },
      { field: "k8s.ns.name", value: "shop", suggested: true },
      { field: "proc.exepath", value: "/usr/bin/bash", suggested: false },
      { field: "user.uid", value: "0", suggested: false },
      { field: "container.id", value: "4f0e5b1a9c2d", suggested: false },
    ]);
  });

  it("leaves out an entry's field the process chooses (proc.pname in BPF Program Not Profiled)", () => {
    const entry = kb.byRule.get("BPF Program Not Profiled");
    const alert = shellAlert(
      { "proc.exepath": "/usr/bin/bpftool", "user.name": "root", "proc.pname": "bash" },
      { rule: "BPF Program Not Profiled" },
    );
    expect(offeredFields(alert, entry).map((o) => [o.field, o.suggested])).toEqual([
      ["proc.exepath", true],
      ["user.name", true],
    ]);
  });
});

describe("building an exception", () => {
  it("takes ticked rows, a list for `in`, and the name", () => {
    const built = buildException(
      {
        rule: RULE,
        name: "debug_shells",
        rows: [
          row("container.image.repository", "a/b,  c/d ,", "in"),
          row("k8s.ns.name", "shop"),
          row("proc.exepath", "/usr/bin/", "startswith"),
          row("user.uid", "whatever", "=", false),
        ],
      },
      [],
      META,
    );
    expect(built).toEqual({
      exception: {
        ...META,
        rule: RULE,
        name: "debug_shells",
        fields: ["container.image.repository", "k8s.ns.name", "proc.exepath"],
        comps: ["in", "=", "startswith"],
        values: [["a/b", "c/d"], "shop", "/usr/bin/"],
      },
    });
  });

  it("names every problem beside its input", () => {
    const built = buildException(
      {
        rule: RULE,
        name: "taken",
        rows: [
          row("container.image.repository", "x) or (proc.pid>0"),
          row("user.uid", "root"),
          row("user.uid", "0", "startswith"),
          row("fd.sip", "10.0.0.999"),
          row("k8s.ns.name", " ,", "in"),
          row("proc.name", "bash"),
          row("fd.name", ""),
        ],
      },
      ["taken"],
      META,
    );
    expect(built).toEqual({
      problems: {
        name: "This rule already has a saved exception named taken: choose another name.",
        rows: {
          0: expect.stringMatching(
            /^container\.image\.repository: this value cannot be one Falco string literal: it contains a word \("or"\)/,
          ),
          1: 'user.uid: user.uid is a number: "root" is not one.',
          2: "user.uid cannot be compared with startswith: choose =, in.",
          3: 'fd.sip: fd.sip is an IP address: "10.0.0.999" is not one.',
          4: "k8s.ns.name: give at least one value.",
          5: "proc.name is chosen by the process itself and cannot key an exception.",
          6: "fd.name: give a value.",
        },
      },
    });
    expect(
      buildException({ rule: RULE, name: "ok", rows: [row("k8s.ns.name", "shop", "=", false)] }, [], META),
    ).toEqual({
      problems: {
        rows: {},
        general: "Tick at least one field: an exception without fields would hide every alert of the rule.",
      },
    });
    expect(
      buildException({ rule: RULE, name: "9lives", rows: [row("k8s.ns.name", "shop")] }, [], META),
    ).toMatchObject({
      problems: { name: expect.stringMatching(/^Use a letter/) },
    });
  });
});

describe("matching and replaying", () => {
  const ex: TuningException = {
    ...META,
    rule: RULE,
    name: "n",
    fields: ["container.image.repository", "k8s.ns.name", "user.uid"],
    comps: ["startswith", "in", "="],
    values: ["registry.example.com/", ["shop", "tools"], "0"],
  };

  it("holds an alert only when every comparison holds, as Falco compares", () => {
    const base = {
      "container.image.repository": "registry.example.com/shop/web",
      "k8s.ns.name": "shop",
      "user.uid": 0,
    };
    expect(exceptionMatches(ex, shellAlert(base))).toBe(true);
    expect(exceptionMatches(ex, shellAlert({ ...base, "k8s.ns.name": "tools" }))).toBe(true);
    expect(exceptionMatches(ex, shellAlert({ ...base, "k8s.ns.name": "payments" }))).toBe(false);
    expect(
      exceptionMatches(
        ex,
        shellAlert({ ...base, "container.image.repository": "evil/registry.example.com/" }),
      ),
    ).toBe(false);
    expect(exceptionMatches(ex, shellAlert({ ...base, "user.uid": 1000 }))).toBe(false);
    // A field the alert does not carry does not match: the alert is posted.
    expect(exceptionMatches(ex, shellAlert({ ...base, "user.uid": null }))).toBe(false);
    expect(exceptionMatches(ex, shellAlert(base, { rule: "Another rule" }))).toBe(false);
  });

  it("counts what it would have hidden, by host and workload, with the newest examples", async () => {
    const alerts = Array.from({ length: 9 }, (_, i) =>
      shellAlert(
        {
          "container.image.repository": i < 7 ? "registry.example.com/shop/web" : "other/image",
          "k8s.ns.name": "shop",
          "k8s.pod.name": `web-${i % 2}`,
          "user.uid": 0,
        },
        { uuid: `u${i}`, hostname: i < 5 ? "node-a" : "node-b", time: `2026-12-0${i + 1}T00:00:00Z` },
      ),
    );
    async function* chunks() {
      yield alerts.slice(0, 4);
      yield alerts.slice(4);
    }
    expect(await replayException(ex, chunks())).toEqual({
      rule: RULE,
      replayed: 9,
      hidden: 7,
      passed: 2,
      hosts: [
        { name: "node-a", count: 5 },
        { name: "node-b", count: 2 },
      ],
      moreHosts: 0,
      workloads: [
        { name: "shop/web-0", count: 4 },
        { name: "shop/web-1", count: 3 },
      ],
      moreWorkloads: 0,
      firstSeen: "2026-12-01T00:00:00Z",
      lastSeen: "2026-12-07T00:00:00Z",
      examples: [6, 5, 4, 3, 2].map((i) => ({
        uuid: `u${i}`,
        time: `2026-12-0${i + 1}T00:00:00Z`,
        output: "A shell was spawned",
      })),
    });
  });
});

describe("the tuning rules file", () => {
  it("writes each rule once, its exceptions appended, every value one Falco literal in a YAML scalar", () => {
    const a: TuningException = {
      ...META,
      id: "t2",
      rule: RULE,
      name: "second",
      fields: ["fd.name"],
      comps: ["startswith"],
      values: ["/etc/it's"],
      createdAt: "2026-12-03T00:00:00.000Z",
    };
    const b: TuningException = {
      ...META,
      id: "t1",
      rule: RULE,
      name: "first",
      fields: ["container.image.repository", "k8s.ns.name"],
      comps: ["in", "="],
      values: [['we"ird\\name', "shell_binaries"], "a b"],
    };
    const c: TuningException = {
      ...META,
      id: "t3",
      rule: "Another rule",
      name: "other",
      fields: ["user.name"],
      comps: ["="],
      values: ["root"],
    };
    // A single quote is refused when saving; were one stored, the file would rather fail than carry it.
    expect(() => tuningRulesYaml([a])).toThrow(/not one literal/);
    const yaml = tuningRulesYaml([{ ...a, values: ["/etc/x"] }, b, c]);
    expect(yaml).toBe(
      `${RULES_FILE_HEADER.split("\n")
        .map((l) => `#${l}`)
        .join("\n")}

- rule: Another rule
  exceptions:
    - name: other
      fields: [ user.name ]
      comps: [ = ]
      values:
        - [ '"root"' ]
  override:
    exceptions: append
- rule: Terminal shell in container
  exceptions:
    - name: first
      fields: [ container.image.repository, k8s.ns.name ]
      comps: [ in, = ]
      values:
        - [ [ '"we\\"ird\\\\name"', '"shell_binaries"' ], '"a b"' ]
    - name: second
      fields: [ fd.name ]
      comps: [ startswith ]
      values:
        - [ '"/etc/x"' ]
  override:
    exceptions: append
`,
    );
    expect((parseYaml(yaml) as { exceptions: { values: unknown }[] }[])[1]!.exceptions[0]!.values).toEqual([
      [['"we\\"ird\\\\name"', '"shell_binaries"'], '"a b"'],
    ]);
    expect(parseYaml(tuningRulesYaml([]))).toEqual([]);
  });
});

const replay: ReplayResult = {
  rule: RULE,
  replayed: 12,
  hidden: 3,
  passed: 9,
  hosts: [{ name: "<!channel>", count: 3 }],
  moreHosts: 0,
  workloads: [
    { name: "shop/web-1", count: 2 },
    { name: "shop/web-2", count: 1 },
  ],
  moreWorkloads: 4,
  firstSeen: "2026-12-01T00:00:00.000Z",
  lastSeen: "2026-12-02T00:00:00.000Z",
  examples: [{ uuid: "u1", time: "2026-12-02T00:00:00.000Z", output: "shell by <@U024BE7LH> `x`" }],
};

describe("the Tune views", () => {
  it("renders the form: one row per offered field, the name, Replay", () => {
    const alert = shellAlert({
      "container.image.repository": "<!channel> img",
      "proc.cmdline": "bash",
      "user.uid": 0,
    });
    const view = renderTuneModal({
      alert,
      offered: offeredFields(alert, kb.byRule.get(RULE)),
      name: "chatops_5e11a1e7",
    });
    const include = (field: string) => ({
      text: { type: "plain_text", text: `Include ${field}` },
      value: "include",
    });
    const ops = (string: boolean) => [
      { text: { type: "plain_text", text: "= (equals)" }, value: "=" },
      { text: { type: "plain_text", text: "in (any of a list)" }, value: "in" },
      ...(string
        ? [{ text: { type: "plain_text", text: "startswith (begins with)" }, value: "startswith" }]
        : []),
    ];
    expect(view).toEqual({
      type: "modal",
      callback_id: TUNE_CALLBACKS.replay,
      private_metadata: JSON.stringify({
        uuid: alert.uuid,
        fields: ["container.image.repository", "user.uid"],
      }),
      title: { type: "plain_text", text: "Tune this rule" },
      submit: { type: "plain_text", text: "Replay" },
      close: { type: "plain_text", text: "Cancel" },
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: "*Falco exception for `Terminal shell in container`*\nTick the fields that identify this benign activity, choose how each is compared, and press *Replay* to see which stored alerts of the rule it would have hidden before you save it. Command lines, arguments and process names are not offered: the process chooses them itself.",
          },
        },
        {
          type: "input",
          block_id: "name",
          label: { type: "plain_text", text: "Exception name" },
          hint: {
            type: "plain_text",
            text: "A word (letters, digits, underscores), different from the rule's own exception names.",
          },
          element: {
            type: "plain_text_input",
            action_id: "value",
            initial_value: "chatops_5e11a1e7",
            max_length: 64,
          },
        },
        { type: "divider" },
        {
          type: "input",
          block_id: "f0_use",
          optional: true,
          label: { type: "plain_text", text: "container.image.repository" },
          element: {
            type: "checkboxes",
            action_id: "value",
            options: [include("container.image.repository")],
            initial_options: [include("container.image.repository")],
          },
        },
        {
          type: "input",
          block_id: "f0_op",
          label: { type: "plain_text", text: "container.image.repository: operator" },
          element: {
            type: "static_select",
            action_id: "value",
            options: ops(true),
            initial_option: ops(true)[0],
          },
        },
        {
          type: "input",
          block_id: "f0_value",
          label: { type: "plain_text", text: "container.image.repository: value" },
          hint: {
            type: "plain_text",
            text: "For `in`, separate the values with commas. For startswith, the beginning of the value.",
          },
          element: {
            type: "plain_text_input",
            action_id: "value",
            initial_value: "<!channel> img",
            max_length: 3000,
          },
        },
        { type: "divider" },
        {
          type: "input",
          block_id: "f1_use",
          optional: true,
          label: { type: "plain_text", text: "user.uid" },
          element: { type: "checkboxes", action_id: "value", options: [include("user.uid")] },
        },
        {
          type: "input",
          block_id: "f1_op",
          label: { type: "plain_text", text: "user.uid: operator" },
          element: {
            type: "static_select",
            action_id: "value",
            options: ops(false),
            initial_option: ops(false)[0],
          },
        },
        {
          type: "input",
          block_id: "f1_value",
          label: { type: "plain_text", text: "user.uid: value" },
          hint: {
            type: "plain_text",
            text: "For `in`, separate the values with commas. For startswith, the beginning of the value.",
          },
          element: { type: "plain_text_input", action_id: "value", initial_value: "0", max_length: 3000 },
        },
      ],
    });
    expect(slackViewProblem(view)).toBeNull();
  });

  it("renders the replay with escaped values and Save", () => {
    const view = renderReplayView({
      exception: { rule: RULE, name: "web", fields: ["k8s.ns.name"], comps: ["in"], values: [["a", "<b>"]] },
      replay,
      draftId: "t0123456789ab",
      retentionDays: 14,
    });
    const md = (text: string) => ({ type: "mrkdwn", text, verbatim: true });
    expect(view).toEqual({
      type: "modal",
      callback_id: TUNE_CALLBACKS.save,
      private_metadata: "t0123456789ab",
      title: { type: "plain_text", text: "Tune this rule" },
      submit: { type: "plain_text", text: "Save" },
      close: { type: "plain_text", text: "Cancel" },
      blocks: [
        {
          type: "section",
          text: md(
            '*Exception `web` for `Terminal shell in container`*\nHides an alert when `k8s.ns.name in ("a", "&lt;b&gt;")`',
          ),
        },
        {
          type: "section",
          text: md(
            "It would have hidden *3* of the rule's *12* stored alerts (the last 14 days) and still let *9* through.",
          ),
        },
        {
          type: "section",
          fields: [
            md("*Hosts*\n`&lt;!channel&gt;` (3)"),
            md("*Workloads*\n`shop/web-1` (2), `shop/web-2` (1) and 4 more"),
            md(
              "*First seen*\n<!date^1796083200^{date_short_pretty} at {time_secs}|2026-12-01T00:00:00.000Z>",
            ),
            md("*Last seen*\n<!date^1796169600^{date_short_pretty} at {time_secs}|2026-12-02T00:00:00.000Z>"),
          ],
        },
        {
          type: "section",
          text: md(
            "*Latest hidden alerts*\n• `u1` <!date^1796169600^{date_short_pretty} at {time_secs}|2026-12-02T00:00:00.000Z>: shell by &lt;@U024BE7LH&gt; `x`",
          ),
        },
        {
          type: "context",
          elements: [
            md(
              "Saving stops this bot posting matching alerts at once, and adds the exception to the tuning rules file (`GET /tuning/falco-rules.yaml`) for Falco to load. `/falco tuning` lists and withdraws it.",
            ),
          ],
        },
      ],
    });
    expect(slackViewProblem(view)).toBeNull();
  });

  it("lists saved exceptions with a Withdraw button each", () => {
    const ex: TuningException = {
      ...META,
      rule: RULE,
      name: "web",
      fields: ["user.name"],
      comps: ["="],
      values: ["<!here>"],
    };
    const message = renderTuningList([ex]);
    expect(message).toEqual({
      text: "1 saved Falco exception",
      blocks: [
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: "*Saved Falco exceptions (1)*: held back here at once, and served for Falco at `GET /tuning/falco-rules.yaml`.",
          },
        },
        {
          type: "section",
          text: {
            type: "mrkdwn",
            verbatim: true,
            text: '`web` on `Terminal shell in container`\n`user.name = "&lt;!here&gt;"`\nsaved by <@U0ALICE> <!date^1796205600^{date_short_pretty} at {time_secs}|2026-12-02T10:00:00.000Z>',
          },
          accessory: {
            type: "button",
            text: { type: "plain_text", text: "Withdraw" },
            action_id: TUNING_ACTIONS.withdraw,
            value: "t0123456789ab",
            style: "danger",
          },
        },
      ],
    });
    expect(slackBlockProblem(message.blocks)).toBeNull();
    expect(renderTuningList([]).text).toBe("No Falco exceptions are saved.");
  });

  it("lists the newest saved exception first, whatever order the store returns them in", () => {
    const make = (id: string, name: string, createdAt: string): TuningException => ({
      ...META,
      id,
      createdAt,
      rule: RULE,
      name,
      fields: ["user.name"],
      comps: ["="],
      values: [name],
    });
    const older = make("t000000000001", "older", "2026-12-01T10:00:00.000Z");
    const newer = make("t000000000002", "newer", "2026-12-03T10:00:00.000Z");
    const names = (list: TuningException[]) =>
      renderTuningList(list)
        .blocks.slice(1)
        .map((b) => /^`(\w+)`/.exec((b as { text: { text: string } }).text.text)?.[1]);
    expect(names([older, newer])).toEqual(["newer", "older"]);
    expect(names([newer, older])).toEqual(["newer", "older"]);
  });

  it("describes the pull request with the replay's figures", () => {
    const ex: TuningException = {
      ...META,
      rule: RULE,
      name: "web",
      fields: ["user.name"],
      comps: ["="],
      values: ["a`b"],
    };
    const draft = additionProposal(ex, replay, "file", "falco/tuning-rules.yaml");
    expect(draft).toEqual({
      branch: "falco-chatops/tuning-t0123456789ab",
      title: "Falco exception web for Terminal shell in container",
      commitMessage: "Falco exception web for rule Terminal shell in container",
      content: "file",
      body: [
        "Adds the exception `web` to the rule `Terminal shell in container` in `falco/tuning-rules.yaml`, saved in Slack by user `U0ALICE` at 2026-12-02T10:00:00.000Z from alert `5e11a1e7`.",
        "",
        "It hides an alert of the rule when:",
        "- `user.name` = `` a`b ``",
        "",
        "Replayed against the rule's 12 stored alerts, it would have hidden **3** and let **9** through.",
        "",
        "- Hosts: `<!channel>` (3)",
        "- Workloads: `shop/web-1` (2), `shop/web-2` (1) and 4 more",
        "- First seen: 2026-12-01T00:00:00.000Z, last seen: 2026-12-02T00:00:00.000Z",
        "- Latest hidden alerts: `u1`",
        "",
        "The bot already holds matching alerts back; Falco stops raising them once it loads this file.",
      ].join("\n"),
    });
  });
});

describe("the GitHub settings", () => {
  const base = { PORT: "0" };
  it("turn pull requests on with GITHUB_TOKEN and TUNING_REPO, with the documented defaults", () => {
    expect(
      loadConfig({ ...base, GITHUB_TOKEN: "ghp_0123456789", TUNING_REPO: "team/falco-config" }).tuningGitHub,
    ).toEqual({
      token: "ghp_0123456789",
      repo: "team/falco-config",
      path: "falco/tuning-rules.yaml",
      baseBranch: "main",
      apiUrl: "https://api.github.com",
    });
    expect(loadConfig(base).tuningGitHub).toBeNull();
  });

  it("name what is wrong", () => {
    expect(() => loadConfig({ ...base, TUNING_REPO: "team/falco-config" })).toThrow(
      /GITHUB_TOKEN is required with TUNING_REPO/,
    );
    expect(() =>
      loadConfig({
        ...base,
        GITHUB_TOKEN: "ghp_0123456789",
        TUNING_REPO: "not a repo",
        TUNING_PATH: "../x.yaml",
      }),
    ).toThrow(/TUNING_REPO must be owner\/name of a GitHub repository[\s\S]*TUNING_PATH must/);
  });
});
