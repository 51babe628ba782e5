import type { TuningException } from "./exception.js";
import type { PullRequestDraft } from "./github.js";
import type { ReplayResult } from "./replay.js";

/** Markdown inline code that a value's backticks cannot end early. */
function code(text: string): string {
  const t = text.replace(/\s+/g, " ");
  const fence = t.includes("`") ? "``" : "`";
  return `${fence}${fence === "``" ? ` ${t} ` : t}${fence}`;
}

function comparisonLines(ex: TuningException): string[] {
  return ex.fields.map((f, i) => {
    const v = ex.values[i]!;
    return `- ${code(f)} ${ex.comps[i]} ${Array.isArray(v) ? v.map(code).join(", ") : code(v)}`;
  });
}

/** The pull request that adds a saved exception to the tuning rules file; its description gives the replay. */
export function additionProposal(
  ex: TuningException,
  replay: ReplayResult | null,
  content: string,
  path: string,
): PullRequestDraft {
  const figures = replay
    ? [
        `Replayed against the rule's ${replay.replayed} stored alerts, it would have hidden **${replay.hidden}** ` +
          `and let **${replay.passed}** through.`,
        ...(replay.hidden > 0
          ? [
              "",
              `- Hosts: ${replay.hosts.map((h) => `${code(h.name)} (${h.count})`).join(", ")}${replay.moreHosts ? ` and ${replay.moreHosts} more` : ""}`,
              `- Workloads: ${replay.workloads.map((w) => `${code(w.name)} (${w.count})`).join(", ")}${replay.moreWorkloads ? ` and ${replay.moreWorkloads} more` : ""}`,
              `- First seen: ${replay.firstSeen}, last seen: ${replay.lastSeen}`,
              `- Latest hidden alerts: ${replay.examples.map((e) => code(e.uuid)).join(", ")}`,
            ]
          : []),
      ]
    : ["The replay's figures were not kept."];
  return {
    branch: `falco-chatops/tuning-${ex.id}`,
    title: `Falco exception ${ex.name} for ${ex.rule}`.slice(0, 250),
    commitMessage: `Falco exception ${ex.name} for rule ${ex.rule}`,
    content,
    body: [
      `Adds the exception ${code(ex.name)} to the rule ${code(ex.rule)} in ${code(path)}, saved in Slack ` +
        `by user ${code(ex.createdBy)} at ${ex.createdAt} from alert ${code(ex.alertUuid)}.`,
      "",
      "It hides an alert of the rule when:",
      ...comparisonLines(ex),
      "",
      ...figures,
      "",
      "The bot already holds matching alerts back; Falco stops raising them once it loads this file.",
    ].join("\n"),
  };
}

/** The pull request that removes a withdrawn exception from the tuning rules file. */
export function withdrawalProposal(
  ex: TuningException,
  by: string,
  content: string,
  path: string,
): PullRequestDraft {
  return {
    branch: `falco-chatops/withdraw-${ex.id}`,
    title: `Withdraw Falco exception ${ex.name} for ${ex.rule}`.slice(0, 250),
    commitMessage: `Withdraw Falco exception ${ex.name} for rule ${ex.rule}`,
    content,
    body: [
      `Removes the exception ${code(ex.name)} of the rule ${code(ex.rule)} from ${code(path)}; ` +
        `withdrawn in Slack by user ${code(by)}. It hid an alert of the rule when:`,
      ...comparisonLines(ex),
    ].join("\n"),
  };
}
