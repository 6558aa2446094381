// Which certificates to issue, from what is on disk, the date and what was asked. Pure.
import { CRI_TLS } from "../tunables.js";
import { type Inspection, ROLES, type Role } from "./inspect.js";

/** none: only what is missing, broken or close to expiry; leaves: also both leaves; all: the CA too. */
export type Rotation = "none" | "leaves" | "all";

export interface CredentialPlan {
  /** The roles to issue anew, CA first; the others are kept as they are. */
  issue: Role[];
  /** Why, per issued role. */
  reasons: Partial<Record<Role, string>>;
}

const DAY_MS = 86_400_000;

/** Days left before `notAfter` (negative once expired). */
export function daysLeft(notAfter: string, now: Date): number {
  return (Date.parse(notAfter) - now.getTime()) / DAY_MS;
}

export function planCredentials(found: Inspection, now: Date, rotation: Rotation = "none"): CredentialPlan {
  const reasons: Partial<Record<Role, string>> = {};
  for (const role of ROLES) {
    const f = found[role];
    // A CA must outlive every leaf it signs: renewed while a whole leaf lifetime still fits.
    const margin = role === "ca" ? CRI_TLS.leafDays + CRI_TLS.renewDays : CRI_TLS.renewDays;
    if (role === "ca" && rotation === "all") reasons.ca = "rotation of the CA requested";
    else if (role !== "ca" && rotation !== "none") reasons[role] = "rotation requested";
    else if (role !== "ca" && reasons.ca) reasons[role] = "the CA is new";
    else if (f.defect !== undefined || !f.info) {
      reasons[role] = f.info ? `unusable: ${f.defect ?? "unknown"}` : `absent: ${f.defect ?? "missing"}`;
    } else {
      const left = daysLeft(f.info.notAfter, now);
      if (left < 0) reasons[role] = `expired on ${f.info.notAfter}`;
      else if (left < margin) reasons[role] = `expires on ${f.info.notAfter}, in ${Math.floor(left)} days`;
      else if (Date.parse(f.info.notBefore) > now.getTime() + DAY_MS) {
        reasons[role] = `valid only from ${f.info.notBefore} (the clock went back?)`;
      }
    }
  }
  return { issue: ROLES.filter((r) => reasons[r] !== undefined), reasons };
}
