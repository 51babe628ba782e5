import type { WebClient } from "@slack/web-api";
import type { Logger } from "pino";
import { slackDate, userMention } from "../../blocks/escape.js";
import { md } from "../../blocks/layout.js";
import type { SlackRef } from "../store/alert-store.js";
import { SAFE_POST_OPTIONS } from "./delivery.js";

/** One change of an alert's state, as its thread records it. */
export interface StateChange {
  /** The Slack user who made it. */
  user: string;
  /** What they did, as mrkdwn that is safe to show (callers escape anything taken from an alert). */
  what: string;
  at: Date;
}

/**
 * The log of every state change in the alert message's thread (who, what, when). On for every
 * channel unless the routing file turns it off for the route that chose the channel.
 */
export class ThreadLog {
  constructor(
    private readonly options: {
      /** Whether alerts posted to this channel log their changes; every channel when not given. */
      enabledFor?: (channel: string) => boolean;
      log: Logger;
    },
  ) {}

  enabledFor(channel: string): boolean {
    return this.options.enabledFor?.(channel) ?? true;
  }

  /**
   * Posts the change as a reply in the thread of the alert's message. A failure is logged and not
   * thrown: the change itself has happened, and the message shows it.
   */
  async record(client: WebClient, message: SlackRef | null, change: StateChange): Promise<void> {
    if (!message || !this.enabledFor(message.channel)) return;
    const text = `${userMention(change.user)} ${change.what} at ${slackDate(change.at.toISOString())}`;
    try {
      await client.chat.postMessage({
        channel: message.channel,
        thread_ts: message.ts,
        text,
        blocks: [{ type: "context", elements: [md(text)] }],
        ...SAFE_POST_OPTIONS,
      });
    } catch (error) {
      this.options.log.warn(
        { err: error, channel: message.channel },
        "could not log a state change in the thread",
      );
    }
  }
}
