// How the credentials are shown (`certs show`, `certs rotate`) and what hydra-shim's config needs
// to use them. Pure; never anything of a key but its file name.
import type { TlsPaths } from "../paths.js";
import { CRI_TLS } from "../tunables.js";
import type { CertInfo, Inspection, Role } from "./inspect.js";
import { daysLeft, type CredentialPlan } from "./plan.js";

/** hydra-shim's `backends.<name>.tls` for this VM (the installer, the demo and `certs show` write it). */
export interface ShimTlsSettings {
  ca: string;
  cert: string;
  key: string;
  server_name: string;
}

export function shimTlsSettings(paths: TlsPaths): ShimTlsSettings {
  return { ca: paths.ca, cert: paths.client, key: paths.clientKey, server_name: CRI_TLS.serverName };
}

const ROLE_TEXT: Record<Role, string> = {
  ca: "CA (signs both; the guest trusts only clients it signed)",
  server: "server (the guest's containerd presents it)",
  client: "client (hydra-shim and the launcher present it)",
};

function certLines(role: Role, info: CertInfo | undefined, defect: string | undefined, now: Date): string[] {
  const head = `${ROLE_TEXT[role]}`;
  if (!info) return [head, `  ${defect ?? "missing"}`];
  return [
    head,
    `  file:     ${info.file}`,
    `  subject:  ${info.subject}${info.altNames.length ? `  (${info.altNames.join(", ")})` : ""}`,
    `  valid:    ${info.notBefore} to ${info.notAfter} (${Math.floor(daysLeft(info.notAfter, now))} days left)`,
    `  sha256:   ${info.sha256}`,
    ...(defect ? [`  problem:  ${defect}`] : []),
  ];
}

export function formatCredentials(
  found: Inspection,
  tls: TlsPaths,
  due: CredentialPlan,
  now: Date,
  generation?: string,
): string {
  const s = shimTlsSettings(tls);
  return [
    `CRI mTLS credentials: ${tls.dir}${generation ? ` -> ${generation}` : " (none yet: 'up' or 'certs rotate' makes them)"}`,
    "",
    ...(["ca", "server", "client"] as const).flatMap((r) => [
      ...certLines(r, found[r].info, found[r].defect, now),
      "",
    ]),
    ...(due.issue.length
      ? [`next 'up' issues: ${due.issue.map((r) => `${r} (${due.reasons[r] ?? ""})`).join("; ")}`, ""]
      : []),
    "hydra-shim's backend settings for this VM (backends.nelly.tls):",
    `  ca: "${s.ca}"`,
    `  cert: "${s.cert}"`,
    `  key: "${s.key}"`,
    `  server_name: "${s.server_name}"`,
  ].join("\n");
}

/** What a rotation means for the running parts, in the order to do it. */
export function afterRotation(issued: readonly Role[], vmRunning: boolean): string[] {
  const out: string[] = [];
  if (issued.length === 0) return ["nothing issued"];
  const caNew = issued.includes("ca");
  if (issued.includes("server") || caNew) {
    out.push(
      vmRunning
        ? "the running VM serves its old server certificate until it restarts: 'hydra-launcher down' then 'up' (or restart hydra-launcher.service)"
        : "the VM serves the new server certificate from its next 'up'",
    );
  }
  out.push(
    caNew
      ? "hydra-shim: reload it (SIGHUP, 'systemctl reload hydra-shim') once the VM runs with the new CA; until both have it, calls to the VM fail"
      : "hydra-shim: reload it (SIGHUP, 'systemctl reload hydra-shim') to present the new client certificate; the old one stays accepted until it expires",
  );
  return out;
}
