// Value parsers of the variable table: zod schemas that take the seed's string values and give
// typed ones. Each error message says what is accepted, so a bad setting names its fix.
import { z } from "zod";
import { archFromName } from "./host.js";

/** The seed's switches: "If > 0". Also true/false/yes/no/on/off. */
export const flag = z.string().transform((s, ctx) => {
  const v = s.trim().toLowerCase();
  if (v === "" || v === "false" || v === "no" || v === "off") return false;
  if (v === "true" || v === "yes" || v === "on") return true;
  if (/^-?\d+$/.test(v)) return Number(v) > 0;
  ctx.addIssue({
    code: "custom",
    message: "accepted: an integer (> 0 means on) or true/false/yes/no/on/off",
  });
  return z.NEVER;
});

export const int = (min: number, max: number) =>
  z.string().transform((s, ctx) => {
    const v = s.trim();
    if (/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max) return Number(v);
    ctx.addIssue({ code: "custom", message: `accepted: a whole number from ${min} to ${max}` });
    return z.NEVER;
  });

/** A host TCP port, or empty to disable that forward (as in the seed). */
export const optionalPort = z.string().transform((s, ctx) => {
  const v = s.trim();
  if (v === "") return null;
  if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) return Number(v);
  ctx.addIssue({ code: "custom", message: "accepted: a TCP port 1-65535, or empty to disable the forward" });
  return z.NEVER;
});

/** Sizes: the seed's whole GiB ("2"), or with a unit: 512M, 2G, 1T. Result in MiB. */
export const sizeMiB = (minMiB: number) =>
  z.string().transform((s, ctx) => {
    const m = /^(\d+)\s*([MGT]?)i?B?$/i.exec(s.trim());
    const unit = (m?.[2] ?? "").toUpperCase();
    const mib = m ? Number(m[1]) * (unit === "M" ? 1 : unit === "T" ? 1024 * 1024 : 1024) : NaN;
    if (Number.isFinite(mib) && mib >= minMiB) return mib;
    ctx.addIssue({
      code: "custom",
      message: `accepted: whole GiB as in the seed (e.g. 2) or a size with unit M/G/T (e.g. 512M), at least ${minMiB}M`,
    });
    return z.NEVER;
  });

export const text = z.string();
export const oneOf = <const T extends string>(values: readonly [T, ...T[]]) =>
  z.string().transform((s, ctx) => {
    if ((values as readonly string[]).includes(s.trim())) return s.trim() as T;
    ctx.addIssue({ code: "custom", message: `accepted: ${values.join(", ")}` });
    return z.NEVER;
  });
export const matching = (re: RegExp, accepted: string) =>
  z.string().refine((s) => re.test(s), { message: `accepted: ${accepted}` });
export const url = matching(/^(https?|file):\/\/\S+$/, "an http://, https:// or file:// URL");
export const absPathOrEmpty = matching(/^(\/.*)?$/, "an absolute path, or empty");

/** DEFAULT_KVM_PORTS_REDIRECT: <host>:<guest>[;<host>:<guest>] (the seed's format). */
export const portRedirects = z.string().transform((s, ctx) => {
  const v = s.trim();
  if (v === "") return [];
  const out: { host: number; guest: number }[] = [];
  for (const item of v.split(";")) {
    const m = /^(\d+):(\d+)$/.exec(item.trim());
    const host = Number(m?.[1]);
    const guest = Number(m?.[2]);
    if (!m || host < 1 || host > 65535 || guest < 1 || guest > 65535) {
      ctx.addIssue({
        code: "custom",
        message: `entry '${item}' is not <host port>:<guest port>; accepted: e.g. 8080:80;8443:443`,
      });
      return z.NEVER;
    }
    out.push({ host, guest });
  }
  return out;
});

/** ADDITIONAL_9P_MOUNTS: <host dir>|<guest dir>[$<host dir>|<guest dir>] (the seed's format). */
export const extraMounts = z.string().transform((s, ctx) => {
  const v = s.trim();
  if (v === "") return [];
  const out: { hostPath: string; guestPath: string }[] = [];
  for (const item of v.split("$")) {
    const [hostPath = "", guestPath = "", ...rest] = item.split("|");
    if (!hostPath.startsWith("/") || !guestPath.startsWith("/") || rest.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `entry '${item}' is not <absolute host dir>|<absolute guest dir>; accepted: e.g. /srv/data|/mnt/data$/srv/x|/mnt/x`,
      });
      return z.NEVER;
    }
    out.push({ hostPath, guestPath });
  }
  return out;
});

/** KVM_ARCH: QEMU's name of the guest's architecture; Debian's (amd64, arm64) is accepted too. */
export const archName = z.string().transform((s, ctx) => {
  const v = s.trim();
  if (/^[a-z0-9_]+$/.test(v)) return archFromName(v).arch;
  ctx.addIssue({
    code: "custom",
    message: "accepted: x86_64 or aarch64 (also amd64, arm64), or another qemu-system-<arch> name",
  });
  return z.NEVER;
});
