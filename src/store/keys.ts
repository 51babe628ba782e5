import { hashKey } from "../route/grouping.js";

/** The uuid-prefix index is split by this many leading characters of the uuid. */
export const ID_BUCKET_CHARS = 4;

/**
 * Every Redis key the store uses, made from the deployment's prefix (which, on Redis Cluster, is a
 * {hashtag} that puts them all in one slot, as a script's keys must be).
 *
 * createAlerts.lua makes four kinds of key itself, for alerts it learns of only while it runs (an
 * original, a group's first alert, an expired index entry): `alertPrefix` + uuid, that key +
 * ":copy-of" and + ":samples", and `idsBase` + ":" + the uuid's first ID_BUCKET_CHARS characters.
 * They are the same names `alert`, `copyOf`, `samples` and `idBucket` make here. It is also handed
 * each alert's `ruleAlerts` key as an argument (one per alert, not a fixed key).
 */
export class StoreKeys {
  /** The alert state hash key without its uuid. */
  readonly alertPrefix: string;
  /** The uuid-prefix index: the name its buckets (`idBucket`) start with. */
  readonly idsBase: string;
  /** Sorted set of stored uuids by arrival (ms); also the "recent" list. */
  readonly byTime: string;
  /** Sorted set of group pointer keys by when their window closes (ms). */
  readonly openGroups: string;
  /** The owned-alerts index key without its user id (takeOwnership.lua makes the previous owner's). */
  readonly ownedPrefix: string;
  /** Held-back alert counters without their hold's id (see `heldCount`). */
  readonly heldPrefix: string;
  /** Sorted set of active silence ids by when they end (ms). */
  readonly activeSilences: string;
  /** A roll-up's record hash without its id (see `rollup`); createAlerts.lua makes its keys from it. */
  readonly rollupPrefix: string;
  /** A counter raised by every change to the silences, which each process compares with its copy's. */
  readonly silencesVersion: string;
  /** The pub/sub channel on which a change to the silences is announced (its new version). */
  readonly silencesChanged: string;

  constructor(readonly prefix: string) {
    this.alertPrefix = `${prefix}:alert:`;
    this.idsBase = `${prefix}:alerts:ids`;
    this.byTime = `${prefix}:alerts:by-time`;
    this.openGroups = `${prefix}:groups:open`;
    this.ownedPrefix = `${prefix}:owned:`;
    this.heldPrefix = `${prefix}:held:`;
    this.activeSilences = `${prefix}:silences:active`;
    this.rollupPrefix = `${prefix}:rollup:`;
    this.silencesVersion = `${prefix}:silences:version`;
    this.silencesChanged = `${prefix}:silences:changed`;
  }

  /** An alert's mutable state (hash; its fields are AlertHash in codec.ts). */
  alert(uuid: string): string {
    return this.alertPrefix + uuid;
  }

  /** An alert's immutable body: the alert and its group key, as lossless JSON (string). */
  body(uuid: string): string {
    return `${this.alertPrefix}${uuid}:body`;
  }

  /** The samples of a group after its first occurrence (set), kept on the group's first alert. */
  samples(leader: string): string {
    return `${this.alertPrefix}${leader}:samples`;
  }

  /** For the uuid of a re-sent copy, the uuid of the alert it was counted as (string). */
  copyOf(uuid: string): string {
    return `${this.alertPrefix}${uuid}:copy-of`;
  }

  /** The first alert stored with this content key, while re-sent copies are recognised (string). */
  seen(contentKey: string): string {
    return `${this.prefix}:seen:${contentKey}`;
  }

  /** The first alert of the group with this group key, while its window is open (string). */
  group(groupKey: string): string {
    return `${this.prefix}:group:${hashKey(groupKey)}`;
  }

  /** The uuid-prefix index bucket holding the uuids that start as this uuid (or prefix) does. */
  idBucket(uuidOrPrefix: string): string {
    return `${this.idsBase}:${uuidOrPrefix.slice(0, ID_BUCKET_CHARS)}`;
  }

  /** The alerts a Slack user owns (sorted set of uuids by when they took them, ms). */
  ownedBy(user: string): string {
    return this.ownedPrefix + user;
  }

  /** How many alerts the silence or saved exception with this id held back (string, INCR). */
  heldCount(holdId: string): string {
    return this.heldPrefix + holdId;
  }

  /** A silence (hash; its fields are SilenceHash in silences.ts). */
  silence(id: string): string {
    return `${this.prefix}:silence:${id}`;
  }

  /** A rule's stored uuids by arrival (ms), for replaying a Falco exception against them (sorted set). */
  ruleAlerts(rule: string): string {
    return `${this.prefix}:alerts:by-rule:${hashKey(rule)}`;
  }

  /**
   * A rule's fleet state in one channel, the base of two keys createAlerts.lua makes from it:
   * `+ ":groups"`, the rule's new groups in the roll-up window (sorted set of first-alert uuids by
   * arrival ms), and `+ ":open"`, the id of the roll-up its new groups join while it is open (string).
   */
  fleet(channel: string, rule: string): string {
    return `${this.prefix}:fleet:${hashKey(`${channel}\n${rule}`)}`;
  }

  /** The new groups a rule opened in a channel within the roll-up window (see `fleet`). */
  fleetGroups(channel: string, rule: string): string {
    return `${this.fleet(channel, rule)}:groups`;
  }

  /** The open roll-up of a rule in a channel (see `fleet`). */
  fleetOpen(channel: string, rule: string): string {
    return `${this.fleet(channel, rule)}:open`;
  }

  /**
   * A roll-up's record (hash; its fields are RollupHash in rollup-codec.ts). createAlerts.lua also
   * makes the names below from `rollupPrefix` + id.
   */
  rollup(id: string): string {
    return this.rollupPrefix + id;
  }

  /** A roll-up's member groups: their first alerts' uuids by occurrences (sorted set). */
  rollupMembers(id: string): string {
    return `${this.rollupPrefix}${id}:members`;
  }

  /** Where each member group happened: first-alert uuid → JSON [host, pod, namespace] (hash). */
  rollupWhere(id: string): string {
    return `${this.rollupPrefix}${id}:where`;
  }

  /** A roll-up's hosts, pods or namespaces by occurrences (sorted set). */
  rollupPlaces(id: string, kind: "hosts" | "pods" | "namespaces"): string {
    return `${this.rollupPrefix}${id}:${kind}`;
  }

  /** Saved Falco exceptions: id → the exception as JSON (hash). */
  get tuningExceptions(): string {
    return `${this.prefix}:tuning:exceptions`;
  }

  /** Counts changes to the saved exceptions, so that every process notices one (string). */
  get tuningVersion(): string {
    return `${this.prefix}:tuning:version`;
  }

  /** An exception being built in the Tune modal, between its replay and its saving (string). */
  tuningDraft(id: string): string {
    return `${this.prefix}:tuning:draft:${id}`;
  }

  /* Falco's own health (src/store/health-store.ts), one record per host; a host is its name. */

  /** Every host's last alert of any kind: host → arrival ms (hash; written once per ingest batch). */
  get healthLastSeen(): string {
    return `${this.prefix}:health:last-seen`;
  }

  /** Hosts that sent a metrics snapshot, whose heartbeat is checked: host → its arrival ms (hash). */
  get healthWatched(): string {
    return `${this.prefix}:health:watched`;
  }

  /** Hosts with an open outage (set). */
  get healthOutages(): string {
    return `${this.prefix}:health:outages`;
  }

  /** A host's latest metrics snapshot: its figures as JSON and when it arrived (hash). */
  healthHost(host: string): string {
    return `${this.prefix}:health:host:${host}`;
  }

  /** A host's drop alerts and timeouts notifications by arrival ms (sorted set). */
  healthEvents(host: string): string {
    return `${this.prefix}:health:events:${host}`;
  }

  /** A host's current visibility episode and its Slack message (hash; see recordVisibilityLoss.lua). */
  healthEpisode(host: string): string {
    return `${this.prefix}:health:episode:${host}`;
  }

  /** A host's open outage and its Slack message (hash; see openOutage.lua). */
  healthOutage(host: string): string {
    return `${this.prefix}:health:outage:${host}`;
  }

  /** A channel's backlog notice: its Slack message and what it last showed (hash; backlog-notices.ts). */
  backlogNotice(channel: string): string {
    return `${this.prefix}:backlog-notice:${channel}`;
  }
}
