import type { ViewsOpenArguments, WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { classifySlackError } from "../client.js";
import { SAFE_POST_OPTIONS } from "../delivery.js";

/** Where the person who clicked or typed is: where a private answer can reach them. */
export interface Clicker {
  user: string;
  /** The channel of the message or command; none for clicks on the Home tab or in a modal. */
  channel: string | undefined;
}

/**
 * Tells the person privately: an ephemeral message in the channel they acted in, or a direct
 * message from the bot when they acted outside a channel (the Home tab, a modal).
 */
export async function tellPrivately(client: WebClient, who: Clicker, text: string): Promise<void> {
  if (who.channel)
    await client.chat.postEphemeral({ channel: who.channel, user: who.user, text, ...SAFE_POST_OPTIONS });
  else await client.chat.postMessage({ channel: who.user, text, ...SAFE_POST_OPTIONS });
}

/**
 * Opens a modal with the trigger id of the interaction that asked for it. Slack takes a trigger id
 * once and only for 3 seconds; when it refuses (a slow Redis, a double click) or the view, this
 * logs why and tells the person privately, and answers false.
 */
export async function openModal(
  client: WebClient,
  request: { triggerId: string; view: ViewsOpenArguments["view"]; who: Clicker; log: Logger },
): Promise<boolean> {
  try {
    await client.views.open({ trigger_id: request.triggerId, view: request.view });
    return true;
  } catch (error) {
    const { code } = classifySlackError(error);
    request.log.warn({ err: error, user: request.who.user, slackError: code }, "Slack did not open a modal");
    const expired = ["expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"].includes(code);
    await tellPrivately(
      client,
      request.who,
      expired
        ? "Slack did not open the form: the click took too long to answer. Please click the button again."
        : `Slack did not open the form (${code}). Please try again; if it keeps failing, tell whoever runs this bot.`,
    ).catch((tellError: unknown) =>
      request.log.warn({ err: tellError, user: request.who.user }, "could not tell the user privately"),
    );
    return false;
  }
}
