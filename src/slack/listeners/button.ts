import type { BlockAction, ButtonAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import type { SlackRef } from "../../store/alert-store.js";
import { type HomeDeps, publishHome } from "../home.js";
import type { ListenerDeps } from "./deps.js";
import { tellPrivately } from "./open-modal.js";

/** A click on a button: who, where, on which message or view, with which value. */
export interface Click {
  /** The button's value: the alert's uuid on alert buttons (a silence's id on Unsilence, an exception's on Withdraw). */
  uuid: string;
  user: string;
  /** None for a click on the Home tab or in a modal: the message is then found from the stored alert. */
  channel: string | undefined;
  messageTs: string | undefined;
  /** For opening a modal (once, within 3 seconds); none for a click rebuilt from a modal's submission. */
  triggerId: string | undefined;
  /** The click came from the clicker's Home tab, which is then published again. */
  fromHome: boolean;
}

export function clickOf(body: BlockAction, action: ButtonAction): Click {
  return {
    uuid: action.value ?? "",
    user: body.user.id,
    channel: body.channel?.id ?? body.container?.channel_id,
    messageTs: body.message?.ts ?? body.container?.message_ts,
    triggerId: body.trigger_id,
    fromHome: body.view?.type === "home",
  };
}

/** The message the button was on, when it was on one. */
export function clickedMessage(click: Click): SlackRef | null {
  return click.channel && click.messageTs ? { channel: click.channel, ts: click.messageTs } : null;
}

/** What Bolt hands a button listener. */
export interface ButtonArgs {
  ack: () => Promise<void>;
  body: BlockAction;
  action: ButtonAction;
  client: WebClient;
}

/**
 * A button listener: acknowledges at once (Slack wants it within 3 seconds), does the work, publishes
 * the Home tab again after a click on it, and when anything fails logs it and tells the clicker
 * privately rather than leaving them with a button that seems to do nothing.
 */
export function buttonHandler(
  deps: HomeDeps & Pick<ListenerDeps, "log">,
  work: (client: WebClient, click: Click) => Promise<void>,
): (args: ButtonArgs) => Promise<void> {
  return async ({ ack, body, action, client }) => {
    await ack();
    const click = clickOf(body, action);
    try {
      await work(client, click);
      if (click.fromHome) await publishHome(client, deps, click.user);
    } catch (error) {
      deps.log.error({ err: error, uuid: click.uuid, action: action.action_id }, "button handler failed");
      await tellPrivately(
        client,
        click,
        "Sorry, that did not work (Slack or Redis answered with an error). Please try again.",
      ).catch(() => {});
    }
  };
}
