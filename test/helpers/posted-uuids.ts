import type { LocalSlack } from "../../src/preview/local-slack.js";

/**
 * Waits for a post per alert (and a moment more, so that a duplicate would show), then says which
 * of `uuids` each chat.postMessage carried (undefined: none of them).
 */
export async function postedUuids(
  slack: LocalSlack,
  uuids: string[],
  timeoutMs = 15_000,
): Promise<(string | undefined)[]> {
  const deadline = Date.now() + timeoutMs;
  while (slack.callsOf("chat.postMessage").length < uuids.length) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${uuids.length} posts`);
    await new Promise((r) => setTimeout(r, 25));
  }
  await new Promise((r) => setTimeout(r, 300));
  return slack
    .callsOf("chat.postMessage")
    .map((c) => uuids.find((u) => JSON.stringify(c.args.blocks).includes(u)));
}
