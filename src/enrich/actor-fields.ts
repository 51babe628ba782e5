/**
 * Fields whose value the actor behind an event chooses, in two degrees.
 */

/**
 * Text a process sets to anything it likes (its arguments, argv[0], environment): never pre-filled
 * into a Falco exception or list, which would hide whatever an attacker writes there next.
 */
export const FREE_TEXT_FIELDS = [
  "proc.cmdline",
  "proc.pcmdline",
  "proc.acmdline",
  "proc.args",
  "proc.exe",
  "proc.pexe",
  "proc.aexe",
  "proc.env",
  "evt.args",
];

/**
 * Those, and names the actor picks: a process sets its own name (comm), and whoever creates a
 * Kubernetes object names it. A benign verdict resting on these alone is only possible.
 */
export const ACTOR_CHOSEN_FIELDS = [
  ...FREE_TEXT_FIELDS,
  "proc.name",
  "proc.pname",
  "proc.aname",
  "ka.resp.name",
  "ka.target.name",
  "ka.useragent",
];
