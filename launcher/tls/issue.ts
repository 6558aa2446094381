// Issues certificates with the openssl CLI into one generation directory. openssl makes each key
// itself and writes it straight to a file (mode 0600) in that 0700 directory: no key passes through
// a command line, an environment variable, a pipe or this process's output, and the command lines
// name only relative file names (the process runs in the directory).
import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import path from "node:path";
import { TLS_FILES } from "../paths.js";
import { runTool } from "../tools.js";
import { CRI_TLS } from "../tunables.js";
import { type Role } from "./inspect.js";

const PURPOSE = "the VM's CRI certificates (hydra-launcher certs)";

/** The extensions of each leaf (an openssl extension file; nothing secret). */
export function leafExtensions(role: Exclude<Role, "ca">): string {
  const common = [
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature",
    "subjectKeyIdentifier = hash",
    "authorityKeyIdentifier = keyid",
  ];
  return role === "server"
    ? [...common, "extendedKeyUsage = serverAuth", `subjectAltName = DNS:${CRI_TLS.serverName}`].join("\n")
    : [...common, "extendedKeyUsage = clientAuth"].join("\n");
}

const names = (role: Role): { cert: string; key: string } =>
  role === "ca"
    ? { cert: TLS_FILES.ca, key: TLS_FILES.caKey }
    : role === "server"
      ? { cert: TLS_FILES.server, key: TLS_FILES.serverKey }
      : { cert: TLS_FILES.client, key: TLS_FILES.clientKey };

/** A positive 127-bit serial (RFC 5280: unique per CA, at most 20 bytes). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f;
  return `0x${bytes.toString("hex")}`;
}

const newKey = (key: string): string[] => [
  "-newkey",
  "ec",
  "-pkeyopt",
  `ec_paramgen_curve:${CRI_TLS.curve}`,
  "-nodes",
  "-keyout",
  key,
];

async function openssl(dir: string, args: string[]): Promise<void> {
  await runTool("openssl", args, { purpose: PURPOSE, cwd: dir });
}

/** A self-signed CA for one VM; `label` tells VMs apart in `certs show` (not secret). */
export async function issueCa(dir: string, label: string): Promise<void> {
  const n = names("ca");
  await openssl(dir, [
    "req",
    "-x509",
    ...newKey(n.key),
    "-sha256",
    "-days",
    String(CRI_TLS.caDays),
    "-set_serial",
    serial(),
    "-subj",
    `/CN=hydra-launcher CA ${label}`,
    "-addext",
    "basicConstraints = critical, CA:TRUE, pathlen:0",
    "-addext",
    "keyUsage = critical, keyCertSign, cRLSign",
    "-out",
    n.cert,
  ]);
  await fsp.chmod(path.join(dir, n.key), 0o600);
}

/** A leaf signed by the CA in the same directory. */
export async function issueLeaf(dir: string, role: Exclude<Role, "ca">): Promise<void> {
  const n = names(role);
  const csr = `${role}.csr`;
  const ext = `${role}.ext`;
  const cn = role === "server" ? CRI_TLS.serverName : CRI_TLS.clientName;
  try {
    await fsp.writeFile(path.join(dir, ext), `${leafExtensions(role)}\n`, { mode: 0o600 });
    await openssl(dir, ["req", "-new", ...newKey(n.key), "-subj", `/CN=${cn}`, "-out", csr]);
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      TLS_FILES.ca,
      "-CAkey",
      TLS_FILES.caKey,
      "-set_serial",
      serial(),
      "-sha256",
      "-days",
      String(CRI_TLS.leafDays),
      "-extfile",
      ext,
      "-out",
      n.cert,
    ]);
    await fsp.chmod(path.join(dir, n.key), 0o600);
  } finally {
    await fsp.rm(path.join(dir, csr), { force: true });
    await fsp.rm(path.join(dir, ext), { force: true });
  }
}

/** Copies a kept certificate and its key from the current generation into the new one. */
export async function keep(from: string, to: string, role: Role): Promise<void> {
  const n = names(role);
  await fsp.copyFile(path.join(from, n.key), path.join(to, n.key));
  await fsp.chmod(path.join(to, n.key), 0o600);
  await fsp.copyFile(path.join(from, n.cert), path.join(to, n.cert));
  await fsp.chmod(path.join(to, n.cert), 0o644);
}
