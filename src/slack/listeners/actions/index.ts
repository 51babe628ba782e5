import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import { permalinkOf } from "../../permalink.js";
import type { WebClient } from "@slack/web-api";
import { ACTIONS } from "../../../../blocks/alert-message.js";
import { renderEscalation } from "../../../../blocks/escalation.js";
import { escapeMrkdwn, slackDate, userMention } from "../../../../blocks/escape.js";
import type { SlackMessage } from "../../../../blocks/limits.js";
import { reportMessages } from "../../../../blocks/report.js";
import { enrich } from "../../../enrich/enrich.js";
import { buildReport } from "../../../report/report.js";
import { partialVisibilityNote } from "../../../health/visibility.js";
import type { SlackRef, StoredAlert } from "../../../store/alert-store.js";
import { SAFE_POST_OPTIONS } from "../../delivery.js";
import type { ListenerDeps } from "../deps.js";
import { buttonHandler, type Click, clickedMessage } from "../button.js";
import { refreshAlertMessage } from "../message-refresh.js";
import { tellPrivately } from "../open-modal.js";
import { registerOwnership } from "./ownership.js";
import { notAResponder } from "./responders.js";
import { secondsSinceArrival, timeToAcknowledgeSeconds } from "../../../metrics.js";

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
  return stored.slack ?? clickedMessage(click);
}

/** Buttons on alert messages: acknowledge, escalate, show and hide the mitigation steps, full report. */
export function register(app: App, deps: ListenerDeps): void {
  const { store, kb, log } = deps;

  /** Re-renders the alert message from the stored state, posting long mitigation steps to its thread. */
  async function refresh(client: WebClient, uuid: string, click: Click): Promise<void> {
    await refreshAlertMessage(client, deps, uuid, clickedMessage(click));
  }

  const { responders } = deps;

  async function claim(kind: "acknowledged" | "escalated", client: WebClient, click: Click): Promise<void> {
    if (!(await responders.allows(client, click.user))) {
      log.warn({ uuid: click.uuid, user: click.user }, `refused: not in SLACK_ALLOWED_RESPONDERS`);
      await tell(
        client,
        click,
        notAResponder(`${kind === "acknowledged" ? "acknowledge" : "escalate"} alerts`),
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
    const permalink = await permalinkOf(client, ref, (error) =>
      log.warn({ err: error, uuid: click.uuid }, "could not get the alert's permalink"),
    );
    const message = renderEscalation(stored.alert, click.user, permalink);
    const posted = await client.chat.postMessage({
      channel: deps.escalationChannel,
      text: message.text,
      blocks: message.blocks,
      ...SAFE_POST_OPTIONS,
    });
    if (posted.ts) await store.setEscalation(click.uuid, { channel: deps.escalationChannel, ts: posted.ts });
  }

  const handle = (work: (client: WebClient, click: Click) => Promise<void>) => buttonHandler(deps, work);

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
      if (!(await store.claimReport(click.uuid, click.user, new Date()))) {
        await tell(client, click, "The full report is already in this alert's thread.");
        return;
      }
      try {
        const report = {
          ...buildReport(stored.alert, enrich(stored.alert, kb), kb, stored.resolution),
          partialVisibility: await partialVisibilityNote(deps.visibility, stored.alert, stored.receivedAt),
        };
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
  registerOwnership(app, deps, { refresh });
}
