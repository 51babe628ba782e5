import type { IncidentReport } from "../src/report/report.js";
import { codeBlock, escapeMrkdwn, inlineCode, plain, slackDate, userMention } from "./escape.js";
import { sections, splitIntoMessages } from "./layout.js";
import { type Block, LIMITS, type SlackMessage } from "./limits.js";
import { stepText } from "./steps.js";

/** The incident report's sections as Block Kit, before they are split into messages. */
function reportBlocks(r: IncidentReport): Block[] {
  const blocks: Block[] = [
    { type: "header", text: { type: "plain_text", text: plain(`Report: ${r.title}`, LIMITS.headerText) } },
  ];
  const summary = [escapeMrkdwn(r.summary.text), escapeMrkdwn(r.summary.why)];
  if (r.summary.verdict) summary.push(`*Known benign pattern:* ${escapeMrkdwn(r.summary.verdict)}`);
  if (r.summary.output) summary.push(`Falco's output:\n${codeBlock(r.summary.output, 2000)}`);
  if (r.partialVisibility) summary.push(`:eyes: *${escapeMrkdwn(r.partialVisibility)}*`);
  blocks.push(...sections("Summary", summary));
  if (r.outcome)
    blocks.push(
      ...sections("Outcome", [
        `*Verdict:* ${escapeMrkdwn(r.outcome.label)}`,
        `*Resolved by:* ${userMention(r.outcome.by)} at ${slackDate(r.outcome.at)}`,
        ...(r.outcome.note ? [`*Their note:*\n${codeBlock(r.outcome.note, 1500)}`] : []),
      ]),
    );
  blocks.push(
    ...sections(
      "Event details",
      r.details.map((d) => `• *${escapeMrkdwn(d.label)}:* ${inlineCode(d.value, 500)}`),
    ),
  );
  if (r.breakdown.length > 0)
    blocks.push(
      ...sections(
        "Event breakdown",
        r.breakdown.map((f) => {
          const meaning = f.meaning
            ? ` — ${f.label ? `${escapeMrkdwn(f.label)}: ` : ""}${escapeMrkdwn(f.meaning)}`
            : "";
          const readings = f.readings.map((x) => `\n      ↳ ${escapeMrkdwn(x)}`).join("");
          return `• ${inlineCode(f.field, 100)} = ${inlineCode(f.value, 400)}${meaning}${readings}`;
        }),
      ),
    );
  if (r.observations.length > 0)
    blocks.push(
      ...sections(
        "Observations",
        r.observations.map(
          (o) =>
            `• ${o.parts.map((p) => (typeof p === "string" ? escapeMrkdwn(p) : inlineCode(p.value, 300))).join("")}`,
        ),
      ),
    );
  if (r.mitre.length > 0)
    blocks.push(
      ...sections(
        "MITRE ATT&amp;CK",
        r.mitre.map(
          (m) =>
            `• <${m.url}|${m.id}>${m.name ? ` ${escapeMrkdwn(m.name)}` : ""}${m.tactics.length ? ` — ${escapeMrkdwn(m.tactics.join(", "))}` : ""}`,
        ),
      ),
    );
  if (r.investigate.length)
    blocks.push(...sections("Investigation (read-only)", r.investigate.map(stepText)));
  if (r.contain.length) blocks.push(...sections("Containment", r.contain.map(stepText)));
  if (r.prevent.length) blocks.push(...sections("Prevention", r.prevent.map(stepText)));
  if (r.falsePositives.length > 0 || r.tuning) {
    const parts = r.falsePositives.map((fp) => `• ${escapeMrkdwn(fp)}`);
    if (r.tuning) {
      parts.push(escapeMrkdwn(r.tuning.description));
      parts.push(
        r.tuning.snippet
          ? codeBlock(r.tuning.snippet, 1500)
          : `_Tuning snippet not filled in: ${escapeMrkdwn(r.tuning.missing.join("; "))}._`,
      );
    }
    blocks.push(...sections("False positives and tuning", parts));
  }
  blocks.push(
    ...sections(
      "Next steps",
      r.nextSteps.map((s, i) => `${i + 1}. ${escapeMrkdwn(s)}`),
    ),
  );
  if (r.references.length > 0)
    blocks.push(
      ...sections(
        "References",
        r.references.map((ref) => `• <${ref.url}|${escapeMrkdwn(ref.title).replaceAll("|", "¦")}>`),
      ),
    );
  return blocks;
}

/**
 * The report as thread replies: as many messages as Block Kit's limits require, each within 50
 * blocks and Slack's recommended message size, in reading order.
 */
export function reportMessages(r: IncidentReport): SlackMessage[] {
  const messages = splitIntoMessages(reportBlocks(r));
  return messages.map((blocks, i) => ({
    // The top-level text is mrkdwn too: the title holds the alert's rule name, so it is escaped.
    text: escapeMrkdwn(
      plain(
        `Incident report for ${r.title}${messages.length > 1 ? ` (part ${i + 1} of ${messages.length})` : ""}`,
        LIMITS.fallbackText - 200,
      ),
    ),
    blocks,
  }));
}
