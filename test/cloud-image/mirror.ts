// Which Debian mirror this machine uses: the image is bootstrapped from it and its guest installs
// from it, so nothing is fetched from anywhere the machine's own apt does not go.
import { promises as fs } from "node:fs";
import path from "node:path";
import { CloudImageError } from "./errors.js";

export interface AptSource {
  uris: string[];
  suites: string[];
  components: string[];
}

/** One-line `deb [opts] uri suite comp…` entries (deb-src and comments skipped). */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ uris: [m[1]!], suites: [m[2]!], components: m[3]!.split(/\s+/).filter(Boolean) });
  }
  return out;
}

/** deb822 stanzas (`Types: deb`, `URIs:`, `Suites:`, `Components:`); disabled ones skipped. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      if (/^\s/.test(line) && last) {
        fields.set(last, `${fields.get(last)} ${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m) {
        last = m[1]!.toLowerCase();
        fields.set(last, m[2]!.trim());
      }
    }
    const words = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    if (!words("types").includes("deb") || fields.get("enabled")?.toLowerCase() === "no") continue;
    out.push({ uris: words("uris"), suites: words("suites"), components: words("components") });
  }
  return out;
}

export interface DebianMirror {
  /** Archive of `suite`, e.g. http://deb.debian.org/debian */
  archive: string;
  /** Archive of `suite`-security, e.g. http://deb.debian.org/debian-security */
  security: string;
}

/** The first source serving `suite` main, and the one serving `suite`-security (or its sibling). */
export function pickMirror(sources: AptSource[], suite: string): DebianMirror | undefined {
  const serving = (s: string) =>
    sources
      .find((x) => x.suites.includes(s) && x.components.includes("main") && x.uris.length > 0)
      ?.uris[0]?.replace(/\/+$/, "");
  const archive = serving(suite);
  if (!archive) return undefined;
  const security = serving(`${suite}-security`) ?? `${archive}-security`;
  return { archive, security };
}

const SOURCES_LIST = "/etc/apt/sources.list";
const SOURCES_DIR = "/etc/apt/sources.list.d";

/** The host's mirror for `suite`, from its apt configuration. */
export async function hostMirror(suite: string): Promise<DebianMirror> {
  const sources: AptSource[] = [];
  const text = await fs.readFile(SOURCES_LIST, "utf8").catch(() => "");
  sources.push(...parseOneLineSources(text));
  const names = (await fs.readdir(SOURCES_DIR).catch(() => [] as string[])).sort();
  for (const name of names) {
    const file = path.join(SOURCES_DIR, name);
    if (name.endsWith(".sources")) sources.push(...parseDeb822Sources(await fs.readFile(file, "utf8")));
    else if (name.endsWith(".list")) sources.push(...parseOneLineSources(await fs.readFile(file, "utf8")));
  }
  const mirror = pickMirror(sources, suite);
  if (!mirror) {
    throw new CloudImageError(
      `no apt source of this machine serves Debian ${suite} main (${SOURCES_LIST}, ${SOURCES_DIR}/); ` +
        "pass --mirror URL (e.g. http://deb.debian.org/debian)",
    );
  }
  return mirror;
}
