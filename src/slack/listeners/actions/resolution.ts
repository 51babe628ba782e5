import type { App, BlockAction, ButtonAction } from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { ACTIONS } from "../../../../blocks/alert-message.js";
import { escapeMrkdwn, slackDate, userMention } from "../../../../blocks/escape.js";
import { verdictText } from "../../../../blocks/resolution.js";
import { renderResolveModal } from "../../../../blocks/resolve-modal.js";
import type { SlackRef } from "../../../store/alert-store.js";
import type { ListenerDeps } from "../deps.js";
import { refreshAlertMessage } from "../message-refresh.js";
import { type Clicker, openModal, tellPrivately } from "../open-modal.js";
import { ResponderPolicy } from "./responders.js";

/** What a click on an alert message's button tells: who, where, on which message, about which alert. */
interface MessageClick extends Clicker {
  uuid: string;
  message: SlackRef | null;
  triggerId: string;
}

function clickOf(body: BlockAction, action: ButtonAction): MessageClick {
  const channel = body.channel?.id ?? body.container?.channel_id;
  const ts = body.message?.ts ?? body.container?.message_ts;
  return {
    uuid: action.value ?? "",
    user: body.user.id,
    channel,
    message: channel && ts ? { channel, ts } : null,
    triggerId: body.trigger_id,
  };
}

/** The refusal for someone SLACK_ALLOWED_RESPONDERS does not list. */
export function notAResponder(doing: string): string {
  return `Only the responders this bot is configured with (SLACK_ALLOWED_RESPONDERS) can ${doing} alerts. Ask one of them, or your Slack admin.`;
}

/** The Resolve button (opens the verdict modal; the submission is views/resolution.ts) and Reopen. */
export function register(app: App, deps: ListenerDeps): void {
  const { store, log } = deps;
  const responders = new ResponderPolicy(deps.allowedResponders ?? []);

  const handle =
    (name: string, work: (client: WebClient, click: MessageClick) => Promise<void>) =>
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
      await ack();
      const click = clickOf(body, action);
      try {
        await work(client, click);
      } catch (error) {
        log.error({ err: error, uuid: click.uuid, action: name }, "button handler failed");
        await tellPrivately(
          client,
          click,
          "Sorry, that did not work (Slack or Redis answered with an error). Please try again.",
        ).catch(() => {});
      }
    };

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.resolve,
    handle("resolve", async (client, click) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ uuid: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        await tellPrivately(client, click, notAResponder("resolve"));
        return;
      }
      const stored = await store.get(click.uuid);
      if (!stored) {
        await tellPrivately(
          client,
          click,
          `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored, so it cannot be resolved.`,
        );
        return;
      }
      const r = stored.resolution;
      if (r) {
        await tellPrivately(
          client,
          click,
          `${r.by === click.user ? "You" : userMention(r.by)} already resolved this alert as ${verdictText(r.verdict)} at ${slackDate(r.at)}.`,
        );
        return;
      }
      const message = stored.slack ?? click.message;
      if (!message) return;
      await openModal(client, {
        triggerId: click.triggerId,
        view: renderResolveModal(stored.alert, { uuid: click.uuid, ...message }),
        who: click,
        log,
      });
    }),
  );

  app.action<BlockAction<ButtonAction>>(
    ACTIONS.reopen,
    handle("reopen", async (client, click) => {
      if (!(await responders.allows(client, click.user))) {
        log.warn({ uuid: click.uuid, user: click.user }, "refused: not in SLACK_ALLOWED_RESPONDERS");
        await tellPrivately(client, click, notAResponder("reopen"));
        return;
      }
      const at = new Date();
      const result = await store.reopenAlert(click.uuid);
      if (result.outcome === "missing") {
        await tellPrivately(
          client,
          click,
          `This alert (${escapeMrkdwn(click.uuid)}) is no longer stored, so it cannot be reopened.`,
        );
        return;
      }
      if (result.outcome === "not_resolved") {
        await tellPrivately(client, click, "This alert is not resolved (someone reopened it already).");
        return;
      }
      log.info({ uuid: click.uuid, user: click.user }, "alert reopened");
      const ref = await refreshAlertMessage(client, deps, click.uuid, click.message);
      const was = result.was.verdict ? ` (it was resolved as ${verdictText(result.was.verdict)})` : "";
      await deps.threadLog.record(client, ref, { user: click.user, what: `reopened it${was}`, at });
    }),
  );
}
