// What the credentials on disk are: each certificate read with node:crypto and checked against its
// key, the CA and its role (name, usage). Reading never throws: a defect is a fact for plan.ts.
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import fsp from "node:fs/promises";
import type { TlsPaths } from "../paths.js";
import { CRI_TLS } from "../tunables.js";

export type Role = "ca" | "server" | "client";
export const ROLES: readonly Role[] = ["ca", "server", "client"];

/** What `certs show` and `status` tell about one certificate (never anything about its key). */
export interface CertInfo {
  file: string;
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER certificate, colon-separated hex as openssl prints it. */
  sha256: string;
  /** "DNS:hydra-vm-cri", … */
  altNames: string[];
}

export interface Inspected {
  role: Role;
  /** Absent when the certificate cannot be read or parsed. */
  info?: CertInfo;
  /** Why the pair cannot be used as it is (missing, key mismatch, another CA, wrong name…). */
  defect?: string;
}

export type Inspection = Record<Role, Inspected>;

const EKU = { serverAuth: "1.3.6.1.5.5.7.3.1", clientAuth: "1.3.6.1.5.5.7.3.2" } as const;

export function certFiles(paths: TlsPaths, role: Role): { cert: string; key: string } {
  if (role === "ca") return { cert: paths.ca, key: paths.caKey };
  if (role === "server") return { cert: paths.server, key: paths.serverKey };
  return { cert: paths.client, key: paths.clientKey };
}

function infoOf(file: string, x: X509Certificate): CertInfo {
  return {
    file,
    subject: x.subject.replaceAll("\n", ", "),
    issuer: x.issuer.replaceAll("\n", ", "),
    serial: x.serialNumber,
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    sha256: x.fingerprint256,
    altNames: (x.subjectAltName ?? "").split(", ").filter(Boolean),
  };
}

async function readCert(file: string): Promise<X509Certificate | string> {
  let pem: Buffer;
  try {
    pem = await fsp.readFile(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT"
      ? "missing"
      : `unreadable (${(err as Error).message})`;
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    return `not a certificate (${(err as Error).message})`;
  }
}

async function readKey(file: string): Promise<KeyObject | string> {
  let pem: Buffer;
  try {
    pem = await fsp.readFile(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT"
      ? "its key is missing"
      : `its key is unreadable (${(err as Error).message})`;
  }
  try {
    return createPrivateKey(pem);
  } catch {
    // The parser's message could quote the file: say only that it is not a key.
    return "its key file does not hold a private key";
  }
}

/** Node reports extended key usage as `keyUsage` (a list of OIDs), undefined when absent. */
function extendedKeyUsage(x: X509Certificate): string[] {
  return (x as X509Certificate & { keyUsage?: string[] }).keyUsage ?? [];
}

async function inspectOne(paths: TlsPaths, role: Role, ca: X509Certificate | undefined): Promise<Inspected> {
  const files = certFiles(paths, role);
  const cert = await readCert(files.cert);
  if (typeof cert === "string") return { role, defect: `${files.cert}: ${cert}` };
  const info = infoOf(files.cert, cert);
  const key = await readKey(files.key);
  if (typeof key === "string") return { role, info, defect: key };
  if (!cert.checkPrivateKey(key)) return { role, info, defect: "its key does not match it" };
  if (role === "ca") {
    if (!cert.ca) return { role, info, defect: "not a CA certificate" };
    return { role, info };
  }
  if (!ca) return { role, info, defect: "there is no usable CA to check it against" };
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    return { role, info, defect: "not signed by this VM's CA" };
  }
  if (cert.ca) return { role, info, defect: "a CA certificate where a leaf belongs" };
  const usage = role === "server" ? EKU.serverAuth : EKU.clientAuth;
  if (!extendedKeyUsage(cert).includes(usage)) {
    return { role, info, defect: `no ${role === "server" ? "serverAuth" : "clientAuth"} extended key usage` };
  }
  if (role === "server" && cert.checkHost(CRI_TLS.serverName, { subject: "never" }) === undefined) {
    return { role, info, defect: `does not name ${CRI_TLS.serverName}` };
  }
  return { role, info };
}

/** Reads the three certificates in `paths` and says what is wrong with each, if anything. */
export async function inspectCredentials(paths: TlsPaths): Promise<Inspection> {
  const ca = await inspectOne(paths, "ca", undefined);
  const caCert = ca.defect === undefined ? await readCert(paths.ca) : undefined;
  const usableCa = caCert instanceof X509Certificate ? caCert : undefined;
  return {
    ca,
    server: await inspectOne(paths, "server", usableCa),
    client: await inspectOne(paths, "client", usableCa),
  };
}
