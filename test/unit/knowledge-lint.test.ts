import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultKnowledgeDir, KnowledgeBaseError, loadKnowledgeBase } from "../../src/enrich/knowledge.js";
import {
  BANNED,
  commandEffect,
  commandProblems,
  lintEntry,
  lintKnowledgeBase,
  programOf,
  tuningProblems,
} from "../../src/enrich/lint.js";
import type { KnowledgeEntry, Step } from "../../src/enrich/knowledge.js";

describe("the safety lint", () => {
  // Advice an LLM-written incident report gave for a Falco alert; every line must be refused.
  const badAdvice = [
    "setenforce 0",
    "seccomp --first-accept-filter",
    "ossec config set",
    "chmod 777 /var/run/docker.sock",
    "chmod -R a+rwx /etc",
    "curl -sL https://get.example.sh | sh",
    "wget -qO- https://example.com/install.sh | bash",
    "bash <(curl -s https://example.com/x.sh)",
    "systemctl stop apparmor",
    "systemctl disable auditd",
    "aa-teardown",
    "ufw disable",
    "iptables -F",
    "auditctl -e 0",
    "docker run --privileged -it alpine sh",
    "kubectl get pods; kubectl delete pod x",
    "kubectl get pods && rm -rf /tmp/x",
    "kubectl logs 'unterminated",
    // curl only for read-only queries of the Okta and GitHub APIs
    'curl -sS "$OKTA_ORG_URL/api/v1/logs"',
    'curl --get -X POST "$OKTA_ORG_URL/api/v1/users/x/lifecycle/suspend"',
    'curl --get -d x=1 "$OKTA_ORG_URL/api/v1/logs"',
    'curl --get -o out.sh "$OKTA_ORG_URL/api/v1/logs"',
    "curl --get https://example.com/install.sh",
    "curl --get https://api.github.com.evil.example/x",
  ];
  it.each(badAdvice)("refuses %s", (command) => {
    expect(commandProblems(command)).not.toEqual([]);
  });

  it.each([
    "kubectl -n shop describe pod web-1",
    "docker top abc123",
    "crictl inspect abc",
    "find /proc -maxdepth 2 -name exe -lname '*memfd:*'",
    `curl --get -sS -H "Accept: application/json" --data-urlencode 'q=x' "$OKTA_ORG_URL/api/v1/logs"`,
    "curl --get -sS https://api.github.com/repos/o/r/events",
  ])("accepts %s", (command) => {
    expect(commandProblems(command)).toEqual([]);
  });

  it.each([
    ["kubectl -n shop get pod web -o yaml", "read"],
    ["kubectl auth can-i create pods/exec --as=alice -n shop", "read"],
    ["kubectl rollout restart deployment/web", "change"],
    ["kubectl -n shop delete pod web", "destroy"],
    ["docker container ls", "read"],
    ["docker pause abc", "change"],
    ["docker rm -f abc", "destroy"],
    ["aws iam list-access-keys --user-name bob", "read"],
    ["aws iam update-access-key --user-name bob --access-key-id AKIAEXAMPLE --status Inactive", "change"],
    ["kubectl -n shop get pod web -o yaml > pod.yaml", "change"],
    ["iptables -S", "read"],
    ["aws cloudtrail lookup-events --region eu-west-1 --max-results 50", "read"],
    ["aws s3api get-bucket-policy --bucket b", "read"],
    ["aws s3 ls s3://b", "read"],
    ["aws s3 rm s3://b/key", "destroy"],
    ["aws s3api put-public-access-block --bucket b", "change"],
    ["aws cloudtrail start-logging --name t", "change"],
    ["aws lambda invoke --function-name f out.json", "change"],
    ["aws iam delete-access-key --user-name bob --access-key-id AKIAEXAMPLE", "destroy"],
    ["gcloud logging read 'protoPayload.methodName=\"SetIamPolicy\"' --project=p --freshness=7d", "read"],
    ["gcloud projects get-iam-policy p --flatten='bindings[].members'", "read"],
    ["gcloud iam service-accounts keys list --iam-account=sa@p.iam.gserviceaccount.com", "read"],
    ["gcloud iam service-accounts disable sa@p.iam.gserviceaccount.com", "change"],
    ["gcloud iam service-accounts keys delete k --iam-account=sa@p.iam.gserviceaccount.com", "destroy"],
    ["gcloud storage buckets describe gs://b", "read"],
    ["gcloud compute instances stop vm --zone=z", "destroy"],
    ["gcloud beta something-new x", "change"],
    ["gsutil iam get gs://b", "read"],
    ["gsutil iam ch allUsers:objectViewer gs://b", "change"],
    ["gh repo view o/r --json visibility", "read"],
    ["gh repo edit o/r --visibility private --accept-visibility-change-consequences", "change"],
    ["gh repo delete o/r --yes", "destroy"],
    ["gh secret list --repo o/r", "read"],
    ["gh api /repos/o/r/keys", "read"],
    ["gh api --method GET /orgs/o/audit-log -f phrase=actor:x", "read"],
    ["gh api /orgs/o/audit-log -f phrase=actor:x", "change"],
    ["gh api -X DELETE /repos/o/r/keys/1", "destroy"],
    ["gh api --method PATCH /repos/o/r -f private=true", "change"],
    [
      `curl --get -sS -H "Authorization: SSWS $OKTA_API_TOKEN" --data-urlencode 'filter=eventType eq "x"' "$OKTA_ORG_URL/api/v1/logs"`,
      "read",
    ],
  ])("classifies %s as %s", (command, effect) => {
    expect(commandEffect(command)).toBe(effect);
  });

  // One sample per ban: removing (or breaking) any ban makes its own row fail.
  const banSamples: Record<string, string> = {
    "setenforce-off": "setenforce 0",
    "selinux-config-off": "SELINUX=disabled",
    "chmod-world-writable": "chmod 777 /tmp/x",
    "apparmor-off": "aa-teardown",
    "systemctl-stop-security": "systemctl stop auditd",
    "service-stop-security": "service auditd stop",
    "ufw-disable": "ufw disable",
    killall: "killall nginx",
    "auditctl-off": "auditctl -D",
    "iptables-flush": "iptables -F",
    "iptables-accept-policy": "iptables -P INPUT ACCEPT",
    "nft-flush": "nft flush ruleset",
    privileged: "docker run --privileged alpine",
    "privilege-escalation": "allowPrivilegeEscalation: true",
    unconfined: "docker run --security-opt seccomp=unconfined alpine",
    "pipe-to-shell": "curl -s https://x.example/i.sh | sh",
    "run-downloaded-script": "bash <(curl -s https://x.example/i.sh)",
    download: "wget https://x.example/f",
    "rm-root": "rm -rf /",
    "journal-vacuum": "journalctl --vacuum-time=1s",
    "destroy-evidence": "shred -u /var/log/auth.log",
    "find-exec": "find / -name x -delete",
    "crontab-remove": "crontab -r",
    "chmod-octal-writable": "chmod 666 /etc/shadow",
    "kernel-settings": "sysctl -w kernel.yama.ptrace_scope=0",
  };

  it.each(Object.entries(banSamples))("ban %s refuses %j", (id, sample) => {
    const ban = BANNED.find((b) => b.id === id);
    expect(ban, `no ban named ${id}`).toBeDefined();
    expect(ban!.pattern.test(sample)).toBe(true);
    expect(commandProblems(sample)).toContain(ban!.why);
  });

  it("has a sample for every ban", () => {
    expect(BANNED.map((b) => b.id).sort()).toEqual(Object.keys(banSamples).sort());
  });

  it.each([
    ["sudo kubectl delete pod x", "kubectl", "destroy"],
    ["sudo -u root kubectl -n shop delete pod x", "kubectl", "destroy"],
    ["doas kubectl delete pod x", "kubectl", "destroy"],
    ["env KUBECONFIG=/tmp/k kubectl delete pod x", "kubectl", "destroy"],
    ["nice -n 10 docker rm -f abc", "docker", "destroy"],
    ["timeout 30 kubectl label pod x a=b", "kubectl", "change"],
    ["timeout -s KILL 30s kubectl get pods", "kubectl", "read"],
    ["nsenter -t 42 -n ss -tnp state established", "ss", "read"],
    ["sudo nsenter -t 42 -m -p kill -9 7", "kill", "destroy"],
    ["kill -STOP 4242", "kill", "change"],
    ["pkill -STOP --ns 4242 --nslist pid", "pkill", "change"],
  ])("classifies the program a wrapper runs: %s", (command, program, effect) => {
    expect(programOf(command)).toBe(program);
    expect(commandEffect(command)).toBe(effect);
  });

  it("refuses a wrapped program it does not know, and stopping by name", () => {
    expect(commandProblems("sudo mystery-tool --fix")).toContainEqual(
      expect.stringContaining('"mystery-tool"'),
    );
    expect(commandProblems("pkill -x nginx")).toContainEqual(expect.stringContaining("stop by PID"));
    expect(commandProblems("pkill -STOP --ns 4242 --nslist pid")).toEqual([]);
  });

  it("refuses a role listing that cannot show what the role allows", () => {
    expect(commandProblems("kubectl get clusterroles -o wide")).toContainEqual(
      expect.stringContaining("prints no rules"),
    );
    expect(commandProblems("kubectl -n shop get role reader -o wide")).toContainEqual(
      expect.stringContaining("prints no rules"),
    );
    expect(commandProblems("kubectl get clusterrole admin -o yaml")).toEqual([]);
    expect(commandProblems("kubectl get clusterrolebindings -o wide")).toEqual([]);
  });

  it("refuses {{ns.pid}} inside quotes, where its command substitution would not run", () => {
    expect(commandProblems("nsenter -t '{{ns.pid}}' -n ss -tnp")).toContainEqual(
      expect.stringContaining("inside quotes"),
    );
    expect(commandProblems("nsenter -t {{ns.pid}} -n ss -tnp")).toEqual([]);
  });

  describe("where a syscall step runs", () => {
    const entryWith = (step: Step): KnowledgeEntry => ({
      id: "e",
      file: "syscall/e.yaml",
      rules: ["R"],
      aliases: [],
      source: "syscall",
      summary: "s",
      why: "w",
      mitre: [],
      benign_patterns: [],
      investigate: [step],
      contain: [],
      prevent: [],
      false_positives: [],
      references: [],
    });
    const problems = (step: Step) => lintEntry(entryWith(step)).join("\n");

    it.each([
      [{ title: "t", command: "stat {{fd.name}}" }, "does not say where it runs"],
      [{ title: "t", where: "node", command: "stat {{fd.name}}" }, "names the host's file"],
      [{ title: "t", where: "container", command: "sha256sum {{proc.exepath}}" }, "names the host's file"],
      [
        { title: "t", where: "docker", command: "kubectl -n {{k8s.ns.name}} get pod {{k8s.pod.name}}" },
        "belongs to where: pod",
      ],
      [{ title: "t", where: "pod", command: "ss -tnp" }, "says where: pod, but runs ss"],
      [{ title: "t", where: "host", command: "nsenter -t {{ns.pid}} -n ss -tnp" }, "in a host step"],
    ] as [Step, string][])("refuses %j (%s)", (step, problem) => {
      expect(problems(step)).toContain(problem);
    });

    it("refuses a containment change before any capture, and accepts it after one", () => {
      const label: Step = {
        title: "label",
        where: "pod",
        command: "kubectl -n {{k8s.ns.name}} label pod {{k8s.pod.name}} a=b",
        blast_radius: "the pod",
      };
      const capture: Step = {
        title: "capture",
        where: "pod",
        command: "kubectl -n {{k8s.ns.name}} get pod {{k8s.pod.name}} -o yaml > pod.yaml",
        capture: true,
        blast_radius: "none",
      };
      const entry = (contain: Step[]) => ({ ...entryWith({ title: "t", detail: "d" }), contain });
      expect(lintEntry(entry([label])).join("\n")).toContain("changes state before any capture step");
      expect(lintEntry(entry([capture, label]))).toEqual([]);
    });

    it.each([
      { title: "t", where: "node", command: "stat /proc/{{ns.pid}}/root{{fd.name}}" },
      { title: "t", where: "host", command: "stat {{fd.name}}" },
      { title: "t", where: "node", command: "nsenter -t {{ns.pid}} -n ss -tnp" },
      { title: "t", where: "pod", command: "kubectl -n {{k8s.ns.name}} get pod {{k8s.pod.name}}" },
    ] as Step[])("accepts %j", (step) => {
      expect(problems(step)).toBe("");
    });
  });

  it("refuses tuning that pre-fills free text or puts a value where it would not stay one literal", () => {
    const exception = (values: string) =>
      `- rule: R\n  exceptions:\n    - name: e\n      fields: [proc.exepath, proc.cmdline]\n      values:\n        - ${values}\n  override:\n    exceptions: append\n`;
    expect(tuningProblems(exception("[{{proc.exepath}}, {{proc.cmdline}}]"), ["R"])).toContainEqual(
      expect.stringContaining("pre-fills {{proc.cmdline}}"),
    );
    expect(
      tuningProblems("- rule: R\n  desc: {{proc.name}}\n  override:\n    desc: replace\n", ["R"]),
    ).toContainEqual(expect.stringContaining("neither as a YAML list item nor"));
    expect(
      tuningProblems("- list: known_binaries\n  items: [{{proc.name}}]\n  override:\n    items: append\n", [
        "R",
      ]),
    ).toEqual([]);
    expect(
      tuningProblems(
        "- macro: user_known_x\n  condition: |\n    or (proc.exepath = {{proc.exepath}})\n  override:\n    condition: append\n",
        ["R"],
      ),
    ).toEqual([]);
  });

  it("refuses Falco rule syntax that Falco rejects or that changes another rule", () => {
    expect(
      tuningProblems("- rule: R\n  append: true\n  condition: and not proc.name=x\n", ["R"]),
    ).not.toEqual([]);
    expect(
      tuningProblems(
        "- rule: R\n  exceptions:\n    - name: e\n      fields: [proc.name]\n      values:\n        - [x]\n",
        ["R"],
      ),
    ).toContainEqual(expect.stringContaining("override"));
    expect(tuningProblems("- rule: Other\n  enabled: false\n", ["R"])).toContainEqual(
      expect.stringContaining('changes rule "Other"'),
    );
    expect(
      tuningProblems(
        "- rule: R\n  exceptions:\n    - name: e\n      fields: [proc.name, proc.pname]\n      values:\n        - [x]\n  override:\n    exceptions: append\n",
        ["R"],
      ),
    ).toContainEqual(expect.stringContaining("not a list of 2"));
  });

  it("refuses entries that destroy evidence first, mutate while investigating, or omit blast radius", () => {
    const dir = mkdtempSync(join(tmpdir(), "kb-"));
    try {
      cpSync(defaultKnowledgeDir(), dir, { recursive: true });
      writeFileSync(
        join(dir, "syscall", "bad.yaml"),
        [
          "id: bad-entry",
          "rules: [Some rule]",
          "source: syscall",
          "summary: s",
          "why: w",
          "mitre: [T1059]",
          "investigate:",
          "  - title: Fix it while looking",
          "    command: kubectl -n {{k8s.ns.name}} label pod {{k8s.pod.name}} a=b",
          "contain:",
          "  - title: Delete straight away",
          "    command: kubectl -n {{k8s.ns.name}} delete pod {{k8s.pod.name}}",
          "prevent:",
          "  - title: Turn SELinux off",
          "    command: setenforce 0",
          "    blast_radius: everything",
        ].join("\n"),
      );
      const problems = lintKnowledgeBase(loadKnowledgeBase(dir)).join("\n");
      expect(problems).toContain("investigation steps must be read-only");
      expect(problems).toContain("destroys evidence before any capture step");
      expect(problems).toContain("states no blast_radius");
      expect(problems).toContain("turns SELinux enforcement off");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports schema problems with file and line", () => {
    const dir = mkdtempSync(join(tmpdir(), "kb-"));
    try {
      cpSync(defaultKnowledgeDir(), dir, { recursive: true });
      writeFileSync(join(dir, "syscall", "broken.yaml"), "id: Broken Id\nrules: []\n");
      let error: unknown;
      try {
        loadKnowledgeBase(dir);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(KnowledgeBaseError);
      expect((error as Error).message).toMatch(/syscall\/broken\.yaml:1:5 \(id\): must be kebab-case/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
