import type { App } from "@slack/bolt";
import { permalinkOf } from "../../permalink.js";
import type { WebClient } from "@slack/web-api";
import { escapeMrkdwn } from "../../../../blocks/escape.js";
import {
  type LookupView,
  renderHelp,
  renderLookup,
  renderMine,
  renderNotice,
  renderRecent,
} from "../../../../blocks/lookup.js";
import type { SlackMessage } from "../../../../blocks/limits.js";
import { reportMessages } from "../../../../blocks/report.js";
import { renderTuningList } from "../../../../blocks/tune.js";
import { renderHealthList } from "../../../../blocks/health.js";
import { enrich } from "../../../enrich/enrich.js";
import { ALERT_ID } from "../../../falco/schema.js";
import { buildReport } from "../../../report/report.js";
import { partialVisibilityNote } from "../../../health/visibility.js";
import { isOpen, type StoredAlert, stateOf } from "../../../store/alert-store.js";
import { getFollowingCopy } from "../../../store/copies.js";
import type { ListenerDeps } from "../deps.js";
import { answerSilencesCommand } from "../silence/index.js";

/** Shortest uuid prefix `/falco` accepts, so a lookup cannot wander through unrelated alerts. */
export const MIN_PREFIX = 8;

function lookupView(stored: StoredAlert, permalink: string | null): LookupView {
  return {
    alert: stored.alert,
    triage: {
      acknowledgedBy: stored.acknowledgedBy,
      acknowledgedAt: stored.acknowledgedAt,
      escalatedBy: stored.escalatedBy,
      escalatedAt: stored.escalatedAt,
      ownedBy: stored.ownedBy,
      ownedAt: stored.ownedAt,
    },
    state: stateOf(stored),
    permalink,
    posted: stored.slack !== null,
    resolution: stored.resolution,
  };
}

/** Slack accepts at most five answers through one response_url. */
export const MAX_RESPONSES = 5;

/** The stored alert a uuid (or an unambiguous prefix of one) names, or the notice saying why not. */
async function findAlert(id: string, deps: ListenerDeps): Promise<StoredAlert | SlackMessage> {
  if (!ALERT_ID.test(id)) return renderHelp(`\`${escapeMrkdwn(id.slice(0, 80))}\` is not an alert uuid.`);
  const found = await deps.store.resolve(id, MIN_PREFIX);
  if ("notFound" in found) {
    // A re-sent copy's uuid is not indexed; it answers as the alert it was counted as.
    const original = await getFollowingCopy(deps.store, id);
    if (original) return original;
  }
  if ("tooShort" in found)
    return renderNotice(`Give at least ${MIN_PREFIX} characters of the uuid (you gave ${id.length}).`);
  if ("notFound" in found)
    return renderNotice(
      `No alert with uuid \`${escapeMrkdwn(id)}\`. Alerts are looked up by the uuid shown under each alert message.`,
    );
  if ("ambiguous" in found)
    return renderNotice(
      `\`${escapeMrkdwn(id)}\` matches several alerts: ${found.ambiguous.map((u) => `\`${escapeMrkdwn(u)}\``).join(", ")}. Give more characters.`,
    );
  const stored = await deps.store.get(found.found);
  return stored ?? renderNotice(`No alert with uuid \`${escapeMrkdwn(id)}\`.`);
}

const isNotice = (x: StoredAlert | SlackMessage): x is SlackMessage => "blocks" in x && !("alert" in x);

/** The answer to `/falco <text>` (one or more ephemeral messages), pure apart from store and permalink reads. */
export async function answerFalcoCommand(
  text: string,
  deps: ListenerDeps,
  client: WebClient,
  /** Who typed it: `/falco mine` lists their alerts. */
  user?: string,
): Promise<SlackMessage[]> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const first = words[0]?.toLowerCase();
  if (!first || first === "help") return [renderHelp()];
  if (first === "tuning") {
    if (!deps.tuning) return [renderNotice("Tuning is not available in this deployment.")];
    return [renderTuningList(await deps.tuning.store.list())];
  }
  if (first === "recent") {
    const alerts = await deps.store.recent(10);
    return [renderRecent(alerts.map((a) => lookupView(a, null)))];
  }
  if (first === "mine") {
    if (!user) return [renderNotice("`/falco mine` needs to know who is asking.")];
    const owned = (await deps.store.ownedBy(user)).filter(isOpen);
    return [renderMine(owned.map((a) => lookupView(a, null)))];
  }
  if (first === "silences") return [await answerSilencesCommand(deps)];
  if (first === "health") {
    if (!deps.health) return [renderNotice("Falco's health is not tracked in this deployment.")];
    return [renderHealthList(await deps.health.hosts(), deps.health.options())];
  }
  if (first === "report") {
    if (!words[1]) return [renderHelp("Say which alert: `/falco report <uuid>`.")];
    const stored = await findAlert(words[1], deps);
    if (isNotice(stored)) return [stored];
    // A later occurrence's incident ends with its group's message: the outcome is the first alert's.
    const owner = (await deps.store.getWithGroup(stored.alert.uuid))?.leader ?? stored;
    const parts = reportMessages({
      ...buildReport(stored.alert, enrich(stored.alert, deps.kb), deps.kb, owner.resolution),
      partialVisibility: await partialVisibilityNote(deps.visibility, stored.alert, stored.receivedAt),
    });
    if (parts.length <= MAX_RESPONSES) return parts;
    return [
      ...parts.slice(0, MAX_RESPONSES - 1),
      renderNotice(
        `The rest of the report did not fit in Slack's five replies: press *Full report* on the alert message, or read it from \`GET /alerts/${escapeMrkdwn(stored.alert.uuid)}/report\`.`,
      ),
    ];
  }
  const stored = await findAlert(words[0]!, deps);
  if (isNotice(stored)) return [stored];
  // A later occurrence of a group points to the group's message and shares its triage state.
  const withGroup = await deps.store.getWithGroup(stored.alert.uuid);
  const owner = withGroup?.leader ?? stored;
  // A group in a fleet roll-up is shown on the roll-up's message: link to that one, and say so.
  const rollup = owner.rollup && deps.rollups ? await deps.rollups.get(owner.rollup) : null;
  const shownOn = rollup?.slack ? { ...owner, slack: rollup.slack } : owner;
  const view = lookupView({ ...shownOn, alert: stored.alert }, await permalinkOf(client, shownOn.slack));
  return [
    renderLookup({
      ...view,
      occurrences: withGroup?.group?.occurrences ?? 1,
      rollup: rollup ? { id: rollup.id, hosts: rollup.hosts.count, groups: rollup.groups } : null,
    }),
  ];
}

/** The `/falco` slash command. */
export function register(app: App, deps: ListenerDeps): void {
  app.command("/falco", async ({ ack, command, respond, client }) => {
    // Acknowledge at once (Slack allows 3 seconds), then answer through the response_url.
    await ack();
    try {
      for (const answer of await answerFalcoCommand(command.text ?? "", deps, client, command.user_id))
        await respond({ response_type: "ephemeral", text: answer.text, blocks: answer.blocks });
    } catch (error) {
      deps.log.error({ err: error }, "/falco failed");
      await respond({
        response_type: "ephemeral",
        text: "Sorry, the lookup failed (Redis unavailable?). Please try again.",
      }).catch(() => {});
    }
  });
}
