import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { ACTIONS, mitigationThreadMessages } from "../../../../blocks/alert-message.js";
import { renderEscalation } from "../../../../blocks/escalation.js";
import { escapeMrkdwn, slackDate, userMention } from "../../../../blocks/escape.js";
import type { SlackMessage } from "../../../../blocks/limits.js";
import { reportMessages } from "../../../../blocks/report.js";
import { enrich } from "../../../enrich/enrich.js";
import { buildReport } from "../../../report/report.js";
import type { SlackRef, StoredAlert } from "../../../store/alert-store.js";
import { SAFE_POST_OPTIONS } from "../../delivery.js";
import { loadForMessage, renderStored, viewOf } from "../../render.js";
import { publishHome } from "../../home.js";
import type { ListenerDeps } from "../deps.js";
import { tellPrivately } from "../open-modal.js";
import { registerOwnership } from "./ownership.js";
import { ResponderPolicy } from "./responders.js";
import { secondsSinceArrival, timeToAcknowledgeSeconds } from "../../../metrics.js";

export interface Click {
  uuid: string;
  user: string;
  /** None for a click on the Home tab or in a modal: the message is then found from the stored alert. */
  channel: string | undefined;
  messageTs: string | undefined;
  /** For opening a modal (once, within 3 seconds). */
  triggerId: string | undefined;
  /** The click came from the clicker's Home tab, which is then published again. */
  fromHome: boolean;
}

function clickOf(body: BlockAction, action: ButtonAction): Click {
  return {
    uuid: action.value ?? "",
    user: body.user.id,
    channel: body.channel?.id ?? body.container?.channel_id,
    messageTs: body.message?.ts ?? body.container?.message_ts,
    triggerId: body.trigger_id,
    fromHome: body.view?.type === "home",
  };
}

/** Tells the clicker privately: ephemeral in the channel, or by direct message from the Home tab. */
async function tell(client: WebClient, click: Click, text: string): Promise<void> {
  await tellPrivately(client, click, text);
}

/** Posts messages, in order, as replies in the thread of the alert's message. */
async function postInThread(client: WebClient, ref: SlackRef, messages: SlackMessage[]): Promise<void> {
  for (const part of messages)
    await client.chat.postMessage({
      channel: ref.channel,
      thread_ts: ref.ts,
      text: part.text,
      blocks: part.blocks,
      ...SAFE_POST_OPTIONS,
    });
}

function messageRef(stored: StoredAlert, click: Click): SlackRef | null {
  if (stored.slack) return stored.slack;
  return click.channel && click.messageTs ? { channel: click.channel, ts: click.messageTs } : null;
}

/** Buttons on alert messages: acknowledge, escalate, show and hide the mitigation steps, full report. */
export function register(app: App, deps: ListenerDeps): void {
  const { store, kb, log } = deps;

  /** Re-renders the alert message from the stored state, posting long mitigation steps to its thread. */
  async function refresh(client: WebClient, uuid: string, click: Click): Promise<void> {
    const loaded = await loadForMessage(store, uuid, client);
    if (!loaded) return;
    let { stored } = loaded;
    const { group, previous } = loaded;
    const ref = messageRef(stored, click);
    if (!ref) return;
    let message = renderStored(stored, kb, group, previous);
    if (!message.mitigationFits && !stored.mitigationInThread) {
      await postInThread(client, ref, mitigationThreadMessages(viewOf(stored, kb, group)));
      await store.setMitigationInThread(uuid);
      stored = (await store.get(uuid)) ?? stored;
      message = renderStored(stored, kb, group, previous);
    }
    await client.chat.update({
      channel: ref.channel,
      ts: ref.ts,
      text: message.text,
      blocks: message.blocks,
    });
  }

  const responders = new ResponderPolicy(deps.allowedResponders ?? []);

  async function claim(kind: "acknowledged" | "escalated", client: WebClient, click: Click): Promise<void> {
    if (!(await responders.allows(client, click.user))) {
      log.warn({ uuid: click.uuid, user: click.user }, `refused: not in SLACK_ALLOWED_RESPONDERS`);
      await tell(
        client,
        click,
        `Only the responders this bot is configured with (SLACK_ALLOWED_RESPONDERS) can ${kind === "acknowledged" ? "acknowledge" : "escalate"} alerts. Ask one of them, or your Slack admin.`,
      );
      return;
    }
    const result = await store.claim(click.uuid, kind, click.user, new Date());
    if (result.outcome === "missing") {
      await tell(
        client,
        click,
        `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored, so it cannot be ${kind}.`,
      );
      return;
    }
    if (result.outcome === "already") {
      const who = result.by === click.user ? "You" : userMention(result.by);
      await tell(
        client,
        click,
        `${who} already ${kind === "acknowledged" ? "acknowledged" : "escalated"} this alert${result.at ? ` at ${slackDate(result.at)}` : ""}.`,
      );
      return;
    }
    log.info({ uuid: click.uuid, user: click.user }, `alert ${kind}`);
    await refresh(client, click.uuid, click);
    const stored = await store.get(click.uuid);
    const waited =
      stored && kind === "acknowledged" ? secondsSinceArrival(stored.receivedAt, new Date(result.at)) : null;
    if (stored && waited !== null)
      timeToAcknowledgeSeconds.observe({ priority: stored.alert.priority }, waited);
    if (stored)
      await deps.threadLog.record(client, messageRef(stored, click), {
        user: click.user,
        what: kind,
        at: new Date(result.at),
      });
    if (kind === "escalated") await escalate(client, click);
  }

  async function escalate(client: WebClient, click: Click): Promise<void> {
    const stored = await store.get(click.uuid);
    if (!stored) return;
    const ref = messageRef(stored, click);
    let permalink: string | null = null;
    if (ref) {
      try {
        permalink =
          (await client.chat.getPermalink({ channel: ref.channel, message_ts: ref.ts })).permalink ?? null;
      } catch (error) {
        log.warn({ err: error, uuid: click.uuid }, "could not get the alert's permalink");
      }
    }
    const message = renderEscalation(stored.alert, click.user, permalink);
    const posted = await client.chat.postMessage({
      channel: deps.escalationChannel,
      text: message.text,
      blocks: message.blocks,
      ...SAFE_POST_OPTIONS,
    });
    if (posted.ts) await store.setEscalation(click.uuid, { channel: deps.escalationChannel, ts: posted.ts });
  }

  const handle =
    (work: (client: WebClient, click: Click) => Promise<void>) =>
    async ({
      ack,
      body,
      action,
      client,
    }: {
      ack: () => Promise<void>;
      body: BlockAction;
      action: ButtonAction;
      client: WebClient;
    }) => {
      // Slack wants the ack within 3 seconds; everything else happens after it.
      await ack();
      const click = clickOf(body, action);
      try {
        await work(client, click);
        if (click.fromHome) await publishHome(client, deps, click.user);
      } catch (error) {
        log.error({ err: error, uuid: click.uuid, action: action.action_id }, "button handler failed");
        await tell(
          client,
          click,
          "Sorry, that did not work (Slack or Redis answered with an error). Please try again.",
        ).catch(() => {});
      }
    };

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.acknowledge,
    handle((client, click) => claim("acknowledged", client, click)),
  );
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.escalate,
    handle((client, click) => claim("escalated", client, click)),
  );
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.expand,
    handle(async (client, click) => {
      await store.setExpanded(click.uuid, true);
      await refresh(client, click.uuid, click);
    }),
  );
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.report,
    handle(async (client, click) => {
      const stored = await store.get(click.uuid);
      if (!stored) {
        await tell(client, click, `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored.`);
        return;
      }
      const ref = messageRef(stored, click);
      if (!ref) return;
      if (!(await store.claimReport(click.uuid, new Date()))) {
        await tell(client, click, "The full report is already in this alert's thread.");
        return;
      }
      try {
        const report = buildReport(stored.alert, enrich(stored.alert, kb), kb, stored.resolution);
        await postInThread(client, ref, reportMessages(report));
        log.info({ uuid: click.uuid, user: click.user }, "full report posted in the thread");
      } catch (error) {
        // Let the next click try again rather than claim a report that never arrived.
        await store.releaseReport(click.uuid);
        throw error;
      }
    }),
  );
  app.action<BlockAction<ButtonAction>>(
    ACTIONS.collapse,
    handle(async (client, click) => {
      await store.setExpanded(click.uuid, false);
      await refresh(client, click.uuid, click);
    }),
  );
  registerOwnership(app, deps, { handle, refresh, responders, tell });
}
