import type { WebClient } from "@slack/web-api";
import { type HomeAlert, type HomeSection, alertSection, renderHome } from "../../blocks/home.js";
import { isOpen, type StoredAlert, stateOf } from "../store/alert-store.js";
import { silencesSection } from "./home-silences.js";
import { tuningSection } from "./home-tuning.js";
import type { ListenerDeps } from "./listeners/deps.js";

/** The Home tab's new / acknowledged / escalated sections look through this many of the latest alerts. */
export const HOME_SCAN = 300;

function homeAlert(stored: StoredAlert): HomeAlert {
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
  };
}

/**
 * An alert that has a message of its own to act on: the first of its group (later occurrences share
 * its message and state), meant to be posted, not held back by a silence or an exception, and not
 * shown by a fleet roll-up's message instead.
 */
function hasOwnMessage(stored: StoredAlert): boolean {
  return (
    stored.group === stored.alert.uuid &&
    stored.post &&
    !["silenced", "tuned", "not_posted", "rolled_up"].includes(stored.delivery.status)
  );
}

/** The alert sections of `user`'s Home tab: theirs, then new, acknowledged and escalated, newest first. */
export async function alertSections(deps: Pick<ListenerDeps, "store">, user: string): Promise<HomeSection[]> {
  const [owned, recent] = await Promise.all([deps.store.ownedBy(user), deps.store.recent(HOME_SCAN)]);
  const open = recent.filter((a) => isOpen(a) && hasOwnMessage(a));
  const inState = (state: string) => open.filter((a) => stateOf(a) === state).map(homeAlert);
  const moreHint = `among the latest ${HOME_SCAN} alerts`;
  return [
    alertSection(
      {
        id: "mine",
        title: "Yours",
        empty: "You own no open alerts. Press Take it on one to own it.",
        moreHint: "(/falco mine lists them all)",
      },
      owned.filter(isOpen).map(homeAlert),
      user,
    ),
    alertSection({ id: "new", title: "New", empty: "No new alerts.", moreHint }, inState("new"), user),
    alertSection(
      { id: "acknowledged", title: "Acknowledged", empty: "No acknowledged alerts.", moreHint },
      inState("acknowledged"),
      user,
    ),
    alertSection(
      { id: "escalated", title: "Escalated", empty: "No escalated alerts.", moreHint },
      inState("escalated"),
      user,
    ),
  ];
}

/** What the Home tab reads: the alerts, and the silences and saved exceptions when they are set up. */
export type HomeDeps = Pick<ListenerDeps, "store" | "silences" | "tuning">;

/**
 * Publishes `user`'s Home tab (views.publish): the alert sections, then the active silences and the
 * saved Falco exceptions. Each other kind of section is a HomeSection its own module makes, added
 * to this list.
 */
export async function publishHome(client: WebClient, deps: HomeDeps, user: string): Promise<void> {
  const [alerts, ...others] = await Promise.all([
    alertSections(deps, user),
    silencesSection(deps),
    tuningSection(deps),
  ]);
  const view = renderHome([...alerts, ...others.filter((s): s is HomeSection => s !== null)]);
  await client.views.publish({ user_id: user, view });
}
