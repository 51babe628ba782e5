import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { silenceModal } from "../../blocks/silence.js";
import type { FalcoAlert } from "../../src/falco/alert.js";
import { validateAlert } from "../../src/falco/schema.js";
import { slackViewProblem } from "../../src/preview/slack-block-rules.js";
import { indexSilences, silenceFor } from "../../src/silence/active.js";
import { scopeOf, workloadOf } from "../../src/silence/scope.js";
import { type Silence, untilDate } from "../../src/silence/silence.js";

function example(name: string, changes: Record<string, unknown> = {}): FalcoAlert {
  const doc = {
    ...JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), "utf8")),
    ...changes,
  };
  const result = validateAlert(doc, 0, new Date());
  if (!result.ok) throw new Error("bad example");
  return result.alert;
}

const shell = example("terminal-shell.json");
const silence = (s: Partial<Silence>): Silence => ({
  id: "s-1",
  rule: shell.rule,
  priority: "Notice",
  match: {},
  createdBy: "U0A",
  reason: "r",
  createdAt: "2026-12-05T10:00:00.000Z",
  endsAt: "2026-12-05T14:00:00.000Z",
  alert: null,
  message: null,
  endedAt: null,
  endedBy: null,
  ...s,
});
const at = Date.parse("2026-12-05T12:00:00.000Z");

describe("silence scope", () => {
  it("offers the alert's own values, never its command line, and the workload only when derivable", () => {
    expect(scopeOf(shell)).toEqual([
      { field: "hostname", label: "Host", value: "worker-node-2" },
      { field: "k8s.ns.name", label: "Namespace", value: "shop" },
      { field: "k8s.workload", label: "Workload", value: "shop-web" },
      {
        field: "container.image.repository",
        label: "Image repository",
        value: "registry.example.com/shop/web",
      },
      { field: "proc.exepath", label: "Executable path", value: "/usr/bin/bash" },
      { field: "user.name", label: "User", value: "root" },
    ]);
    expect(workloadOf("node-exporter-x2x7q")).toBe("node-exporter");
    expect(workloadOf("web-0")).toBeUndefined(); // a StatefulSet's ordinal, or a bare pod
    expect(workloadOf("my-debug-pod")).toBeUndefined();
    const cloud = example("cloudtrail-root-login.json");
    expect(scopeOf(cloud).map((s) => s.field)).not.toContain("hostname");
  });

  it("hides only its rule, at its priority or lower, with every matcher equal, while it lasts", () => {
    const index = indexSilences([
      silence({ id: "host", match: { hostname: "worker-node-2", "user.name": "root" } }),
      silence({ id: "other-host", match: { hostname: "worker-node-9" } }),
    ]);
    expect(silenceFor(index, shell, at)).toBe("host");
    expect(silenceFor(index, { ...shell, priority: "Informational" }, at)).toBe("host");
    expect(silenceFor(index, { ...shell, priority: "Warning" }, at)).toBeNull();
    expect(silenceFor(index, { ...shell, rule: "Other rule" }, at)).toBeNull();
    expect(silenceFor(index, { ...shell, hostname: "worker-node-3" }, at)).toBeNull();
    expect(
      silenceFor(index, { ...shell, outputFields: { ...shell.outputFields, "user.name": "app" } }, at),
    ).toBeNull();
    expect(silenceFor(index, shell, Date.parse("2026-12-05T14:00:00.000Z"))).toBeNull();
    expect(silenceFor(indexSilences([silence({ id: "rule" })]), shell, at)).toBe("rule");
  });

  it("takes a date from tomorrow to 90 days away, ending when it begins (UTC)", () => {
    const now = new Date("2026-12-05T12:00:00.000Z");
    expect(untilDate("2026-12-06", now)).toEqual({ endsAt: new Date("2026-12-06T00:00:00.000Z") });
    expect(untilDate("2026-12-05", now)).toHaveProperty("problem");
    expect(untilDate("2027-03-05", now)).toEqual({ endsAt: new Date("2027-03-05T00:00:00.000Z") });
    expect(untilDate("2027-03-06", now)).toHaveProperty("problem");
    expect(untilDate("2026-02-30", now)).toHaveProperty("problem");
  });
});

describe("the Silence modal", () => {
  it("is a view Slack takes, with long values cut to its limits and the values kept on the server", () => {
    const long = "x".repeat(500);
    const view = silenceModal({
      uuid: "u-1",
      rule: "Terminal shell in container",
      priority: "Notice",
      scope: [{ field: "hostname", label: "Host", value: long }],
      durations: { "1h": "1 hour" },
      maxDays: 90,
    });
    expect(slackViewProblem(view)).toBeNull();
    expect(view).toEqual({
      type: "modal",
      callback_id: "falco_silence_modal",
      private_metadata: "u-1",
      title: { type: "plain_text", text: "Silence alerts", emoji: false },
      submit: { type: "plain_text", text: "Silence", emoji: false },
      close: { type: "plain_text", text: "Cancel", emoji: false },
      blocks: [
        {
          type: "section",
          text: { type: "plain_text", text: "Rule: Terminal shell in container", emoji: false },
        },
        {
          type: "context",
          elements: [
            {
              type: "plain_text",
              text: "Hides alerts of this rule at priority Notice or lower that carry every value checked below: they are stored and counted, not posted. Alerts of other rules, or more severe, are always posted.",
              emoji: false,
            },
          ],
        },
        {
          type: "input",
          block_id: "scope",
          optional: true,
          label: { type: "plain_text", text: "Only alerts with", emoji: false },
          hint: {
            type: "plain_text",
            text: "All checked: the narrowest silence. Uncheck a value to widen it.",
            emoji: false,
          },
          element: {
            type: "checkboxes",
            action_id: "values",
            options: [
              {
                text: { type: "plain_text", text: `Host: ${"x".repeat(68)}…`, emoji: false },
                value: "hostname",
              },
            ],
            initial_options: [
              {
                text: { type: "plain_text", text: `Host: ${"x".repeat(68)}…`, emoji: false },
                value: "hostname",
              },
            ],
          },
        },
        {
          type: "input",
          block_id: "duration",
          label: { type: "plain_text", text: "For", emoji: false },
          element: {
            type: "radio_buttons",
            action_id: "choice",
            options: [
              { text: { type: "plain_text", text: "1 hour", emoji: false }, value: "1h" },
              { text: { type: "plain_text", text: "Until a date", emoji: false }, value: "until" },
            ],
            initial_option: { text: { type: "plain_text", text: "1 hour", emoji: false }, value: "1h" },
          },
        },
        {
          type: "input",
          block_id: "until",
          optional: true,
          label: { type: "plain_text", text: "Until (with “Until a date”)", emoji: false },
          hint: {
            type: "plain_text",
            text: "Ends when that date begins (00:00 UTC); at most 90 days away.",
            emoji: false,
          },
          element: { type: "datepicker", action_id: "date" },
        },
        {
          type: "input",
          block_id: "reason",
          label: { type: "plain_text", text: "Reason", emoji: false },
          element: { type: "plain_text_input", action_id: "text", multiline: true, max_length: 500 },
        },
      ],
    });
  });
});
