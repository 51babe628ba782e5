import type { WebClient } from "@slack/web-api";
import type { SlackRef } from "../store/alert-store.js";

/**
 * The link to a posted message, or null when there is none or Slack will not give it (the message
 * is gone, the app left the channel): a link is a convenience, never a reason to fail the action.
 */
export async function permalinkOf(
  client: WebClient,
  ref: SlackRef | null,
  onError: (error: unknown) => void = () => {},
): Promise<string | null> {
  if (!ref) return null;
  try {
    return (await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts })).permalink ?? null;
  } catch (error) {
    onError(error);
    return null;
  }
}
