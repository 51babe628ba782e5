import type { FilledStep } from "../src/enrich/enrich.js";
import { codeBlock, escapeMrkdwn } from "./escape.js";

/** A knowledge-base step, numbered, with its filled command or what was missing to fill it. */
export function stepText(step: FilledStep, index: number): string {
  const lines = [`${index + 1}. *${escapeMrkdwn(step.title)}*`];
  if (step.command) lines.push(codeBlock(step.command, 1200));
  else if (step.missing.length)
    lines.push(`_Not available for this alert: ${escapeMrkdwn(step.missing.join("; "))}._`);
  if (step.detail) lines.push(escapeMrkdwn(step.detail));
  if (step.snippet) lines.push(codeBlock(step.snippet, 1200));
  if (step.blastRadius) lines.push(`_Blast radius:_ ${escapeMrkdwn(step.blastRadius)}`);
  return lines.join("\n");
}
