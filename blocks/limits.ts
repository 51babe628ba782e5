/** Block Kit limits that Slack enforces with `invalid_blocks` (or truncation) when exceeded. */
export const LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionFieldText: 2000,
  sectionFields: 10,
  headerText: 150,
  buttonText: 75,
  buttonValue: 2000,
  contextElements: 10,
  /** Slack recommends keeping a message's text (all blocks together) to about this many characters. */
  messageChars: 12000,
  /** The top-level `text` used for notifications. */
  fallbackText: 3000,
} as const;

export interface TextObject {
  type: "mrkdwn" | "plain_text";
  text: string;
  verbatim?: boolean;
  emoji?: boolean;
}

export interface ButtonElement {
  type: "button";
  text: TextObject;
  action_id: string;
  value?: string;
  style?: "primary" | "danger";
  url?: string;
}

export type Block =
  | { type: "header"; text: TextObject; block_id?: string }
  | { type: "section"; text?: TextObject; fields?: TextObject[]; block_id?: string }
  | { type: "context"; elements: TextObject[]; block_id?: string }
  | { type: "actions"; elements: ButtonElement[]; block_id?: string }
  | { type: "divider"; block_id?: string };

export interface SlackMessage {
  /** Notification and accessibility text: escaped like any mrkdwn. */
  text: string;
  blocks: Block[];
}

/** Characters of text a message's blocks hold, the measure Slack's ~12k guidance is about. */
export function blockChars(blocks: Block[]): number {
  let n = 0;
  for (const b of blocks) {
    if (b.type === "header") n += b.text.text.length;
    if (b.type === "section")
      n += (b.text?.text.length ?? 0) + (b.fields ?? []).reduce((s, f) => s + f.text.length, 0);
    if (b.type === "context") n += b.elements.reduce((s, e) => s + e.text.length, 0);
    if (b.type === "actions") n += b.elements.reduce((s, e) => s + e.text.text.length, 0);
  }
  return n;
}

/** The problems Slack would have with these blocks; empty when they fit. */
export function limitProblems(blocks: Block[]): string[] {
  const problems: string[] = [];
  if (blocks.length > LIMITS.blocksPerMessage)
    problems.push(`${blocks.length} blocks (max ${LIMITS.blocksPerMessage})`);
  const chars = blockChars(blocks);
  if (chars > LIMITS.messageChars) problems.push(`${chars} characters (max ${LIMITS.messageChars})`);
  blocks.forEach((b, i) => {
    if (b.type === "header" && b.text.text.length > LIMITS.headerText)
      problems.push(`block ${i}: header over ${LIMITS.headerText}`);
    if (b.type === "section") {
      if ((b.text?.text.length ?? 0) > LIMITS.sectionText)
        problems.push(`block ${i}: section text over ${LIMITS.sectionText}`);
      if ((b.fields?.length ?? 0) > LIMITS.sectionFields)
        problems.push(`block ${i}: more than ${LIMITS.sectionFields} fields`);
      for (const f of b.fields ?? [])
        if (f.text.length > LIMITS.sectionFieldText)
          problems.push(`block ${i}: field over ${LIMITS.sectionFieldText}`);
      if (!b.text && !b.fields?.length) problems.push(`block ${i}: empty section`);
    }
    if (b.type === "context" && b.elements.length > LIMITS.contextElements)
      problems.push(`block ${i}: too many context elements`);
    if (b.type === "actions")
      for (const e of b.elements)
        if (e.text.text.length > LIMITS.buttonText)
          problems.push(`block ${i}: button text over ${LIMITS.buttonText}`);
  });
  return problems;
}
