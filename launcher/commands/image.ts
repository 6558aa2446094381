// `hydra-launcher image pull`: the base image (or the bare-kernel artifacts) fetched and verified.
import { artifactsFor, baseImageFor } from "../config/spec.js";
import { EXIT, UsageError } from "../errors.js";
import { ensureArtifacts, ensureBaseImage } from "../images/pull.js";
import type { Command } from "./command.js";

export const imageCommand: Command = {
  summary: "image pull: download, verify and decompress the base image (or kernel artifacts)",
  usage: `hydra-launcher image pull [options]

Fetches DEFAULT_IMAGE from DEFAULT_IMAGE_SOURCE_URL into DEFAULT_DIR_IMAGE (resuming an
interrupted download, verifying it against SHA512SUMS or DEFAULT_IMAGE_DIGEST, decompressing
.zip/.gz/.bz2/.xz), or with RUN_BARE_KERNEL the RIMD artifacts. A present image is not fetched again.`,
  options: {},
  flagVars: {},
  positionals: true,
  async run(ctx) {
    if (ctx.positionals[0] !== "pull" || ctx.positionals.length !== 1) {
      throw new UsageError("usage: hydra-launcher image pull [options]");
    }
    const c = ctx.load().config;
    if (c.RUN_BARE_KERNEL) {
      const r = await ensureArtifacts(artifactsFor(c), ctx.report);
      ctx.report.info(`artifacts ${r.status}: ${artifactsFor(c).root}`);
    } else {
      const r = await ensureBaseImage(c, baseImageFor(c), ctx.report);
      ctx.report.info(`image ${r.status}: ${r.path}`);
    }
    return EXIT.ok;
  },
};
