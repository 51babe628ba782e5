import type { VisibilityLoss } from "../src/health/state.js";
import { slackDate } from "./escape.js";
import { md } from "./layout.js";
import type { Block } from "./limits.js";

/*
 * The "partial visibility" note an alert carries when Falco on its host dropped events around it:
 * its own module, so that the alert message only adds one optional block.
 */

const count = (n: number) => n.toLocaleString("en-US");

/** The note as a context block for the alert message; none when the host dropped nothing around it. */
export function partialVisibilityBlocks(loss: VisibilityLoss | null | undefined): Block[] {
  if (!loss) return [];
  const span =
    loss.from === loss.to
      ? `at ${slackDate(loss.from)}`
      : `between ${slackDate(loss.from)} and ${slackDate(loss.to)}`;
  return [
    {
      type: "context",
      elements: [
        md(
          `:eyes: *Partial visibility:* this node dropped ${count(loss.drops)} events ${span}; activity around this alert may be missing.`,
        ),
      ],
    },
  ];
}
