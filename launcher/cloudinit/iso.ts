// Writes the seed files and builds the `cidata` ISO with whichever tool exists; skips both when
// the seed is unchanged (its digest is kept beside the ISO).
import fs from "node:fs/promises";
import path from "node:path";
import { MissingToolError } from "../errors.js";
import { exists } from "../fs-util.js";
import type { StatePaths } from "../paths.js";
import { hasTool, runTool } from "../tools.js";
import { type SeedFile, seedDigest } from "./render.js";

export type IsoTool = "genisoimage" | "mkisofs" | "xorriso" | "hdiutil";

export function isoArgs(tool: IsoTool, dir: string, out: string): string[] {
  if (tool === "hdiutil")
    return ["makehybrid", "-o", out, "-joliet", "-iso", "-default-volume-name", "cidata", dir];
  const mkisofs = ["-output", out, "-input-charset", "utf-8", "-volid", "cidata", "-joliet", "-rock", dir];
  return tool === "xorriso" ? ["-as", "mkisofs", ...mkisofs] : mkisofs;
}

export async function findIsoTool(platform = process.platform): Promise<IsoTool> {
  const order: IsoTool[] =
    platform === "darwin" ? ["hdiutil", "mkisofs", "xorriso"] : ["genisoimage", "mkisofs", "xorriso"];
  for (const tool of order) if (await hasTool(tool)) return tool;
  throw new MissingToolError(
    "genisoimage",
    "genisoimage",
    "cdrtools",
    "the cloud-init seed ISO (or mkisofs/xorriso)",
  );
}

export async function ensureSeedIso(
  files: readonly SeedFile[],
  paths: StatePaths,
): Promise<{ rebuilt: boolean; digest: string }> {
  const digest = seedDigest(files);
  const previous = await fs.readFile(paths.cidataDigest, "utf8").catch(() => "");
  if (previous.trim() === digest && (await exists(paths.cidataIso))) return { rebuilt: false, digest };

  await fs.rm(paths.cidataDir, { recursive: true, force: true });
  await fs.mkdir(paths.cidataDir, { recursive: true });
  for (const f of files) {
    const file = path.join(paths.cidataDir, f.name);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.writeFile(file, f.content, { mode: 0o600 });
  }
  const tool = await findIsoTool();
  // hdiutil insists on an .iso suffix.
  const tmp = `${paths.cidataIso}.tmp.iso`;
  await fs.rm(tmp, { force: true });
  await runTool(tool, isoArgs(tool, paths.cidataDir, tmp), { purpose: "the cloud-init seed ISO" });
  await fs.rename(tmp, paths.cidataIso);
  await fs.writeFile(paths.cidataDigest, `${digest}\n`);
  return { rebuilt: true, digest };
}
