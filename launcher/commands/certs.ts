// `hydra-launcher certs show|rotate`: the VM's CRI mTLS credentials in its state dir.
import { pathsFor } from "../config/spec.js";
import { EXIT, UsageError } from "../errors.js";
import { ensureCredentials, readCredentials } from "../tls/credentials.js";
import { afterRotation, formatCredentials, shimTlsSettings } from "../tls/describe.js";
import { runningPid } from "../vm/state.js";
import type { Command } from "./command.js";

export const certsCommand: Command = {
  summary: "show, make or rotate the VM's CRI certificates (mTLS between hydra-shim and the VM)",
  usage: `hydra-launcher certs show [--json] [options]
hydra-launcher certs ensure [options]
hydra-launcher certs rotate [--ca] [options]

The VM's containerd serves CRI only over mutual TLS. 'up' makes the credentials when they are
absent, in HYDRA_STATE_DIR/tls (a link to the current set, a directory 0700; keys 0600): a CA of
this VM, a server certificate for the guest (name: hydra-vm-cri) and a client certificate for
hydra-shim and the launcher. 'up' also renews a certificate that expires within 30 days.

  show                 each certificate (subject, validity, SHA-256 fingerprint; never a key) and
                       hydra-shim's backends.nelly.tls settings for this VM
  --json               show: machine-readable
  ensure               what 'up' does before booting: make what is missing, renew what expires
                       within 30 days or is unusable, keep the rest (the node installer runs it so
                       hydra-shim finds the files before the VM's first boot)
  rotate               new server and client certificates and keys, same CA: the VM takes the
                       server certificate at its next start, hydra-shim the client certificate on
                       SIGHUP; the old client certificate stays valid until it expires
  --ca                 rotate: a new CA too (after a leak): the old certificates stop working as
                       soon as the VM restarts; reload hydra-shim then`,
  options: { json: { type: "boolean" }, ca: { type: "boolean" } },
  flagVars: {},
  positionals: true,
  async run(ctx) {
    const [verb, ...extra] = ctx.positionals;
    if ((verb !== "show" && verb !== "ensure" && verb !== "rotate") || extra.length > 0) {
      throw new UsageError("usage: hydra-launcher certs show [--json] | certs ensure | certs rotate [--ca]");
    }
    if (ctx.values.ca && verb !== "rotate") throw new UsageError("--ca goes with 'certs rotate'");
    if (ctx.values.json && verb !== "show") throw new UsageError("--json goes with 'certs show'");
    const paths = pathsFor(ctx.load().config);
    if (verb === "show") {
      const now = new Date();
      const { found, generation, due } = await readCredentials(paths, now);
      if (ctx.values.json) {
        const out = {
          dir: paths.tls.dir,
          generation: generation ?? null,
          ca: found.ca,
          server: found.server,
          client: found.client,
          due: due.issue.map((role) => ({ role, reason: due.reasons[role] })),
          shim: shimTlsSettings(paths.tls),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatCredentials(found, paths.tls, due, now, generation)}\n`);
      }
      return EXIT.ok;
    }
    const r = await ensureCredentials(paths, {
      rotation: verb === "ensure" ? "none" : ctx.values.ca ? "all" : "leaves",
      onWait: () => ctx.report.info("waiting for another hydra-launcher issuing this VM's certificates"),
    });
    for (const role of r.issued) {
      ctx.report.info(
        `issued ${role}: ${r.certs[role].file} (until ${r.certs[role].notAfter}, sha256 ${r.certs[role].sha256})`,
      );
    }
    if (verb === "ensure" && r.issued.length === 0) {
      ctx.report.info(`the VM's CRI certificates in ${r.paths.dir} are in order; nothing issued`);
      return EXIT.ok;
    }
    const running = (await runningPid(paths)) !== undefined;
    for (const line of afterRotation(r.issued, running)) ctx.report.info(`next: ${line}`);
    return EXIT.ok;
  },
};
