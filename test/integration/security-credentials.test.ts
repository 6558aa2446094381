// Registry credentials seen in PullImage never reach hydra-shim's log (at trace level, where it
// logs the most) or its /metrics — neither on a plain PullImage nor when the shim re-uses them to
// pull for a CreateContainer on the VM backend. Real containerd on both sides; the registry is an
// unreachable loopback port, so every pull fails after the credentials were handled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { criClient, type CriClient, type Msg } from "../harness/cri-client.js";
import { busyboxContainerConfig, podSandboxConfig } from "../harness/cri-objects.js";
import { spawnShim, type SpawnedShim } from "../harness/shim.js";
import { shimRuntimes, startBackends, stopBackends, type Backends } from "../soak/backends.js";

/** Each secret field with a marker of its own; also checked hex- and base64-encoded. */
const AUTH = {
  username: "user-7d41",
  password: "password-secret-7d41",
  auth: Buffer.from("user-7d41:password-secret-7d41").toString("base64"),
  server_address: "127.0.0.1:1",
  identity_token: "identity-token-secret-7d41",
  registry_token: "registry-token-secret-7d41",
};
const SECRETS = [AUTH.password, AUTH.auth, AUTH.identity_token, AUTH.registry_token];
const IMAGE = "127.0.0.1:1/hydra/private:1";

function leaked(text: string): string[] {
  return SECRETS.flatMap((s) =>
    [s, Buffer.from(s).toString("hex"), Buffer.from(s).toString("base64")].filter((form) =>
      text.includes(form),
    ),
  );
}

let backends: Backends;
let shim: SpawnedShim;
let cri: CriClient;

beforeAll(async () => {
  backends = await startBackends(`security-credentials-${process.pid}`);
  shim = await spawnShim({
    runtimes: shimRuntimes(backends),
    logLevel: "trace",
    extra: { metrics: { listen: "127.0.0.1:0" } },
  });
  cri = criClient(shim.endpoint);
});

afterAll(async () => {
  cri?.close();
  await shim?.stop();
  if (backends) await stopBackends(backends);
});

async function failing(p: Promise<Msg> | undefined): Promise<string> {
  return (p ?? Promise.resolve({})).then(
    () => "ok",
    (err: { details?: string }) => err.details ?? String(err),
  );
}

function metricsPort(logs: string): number {
  const m = /"metrics":"127\.0\.0\.1:(\d+)"/.exec(logs);
  if (!m) throw new Error(`no metrics address in the shim's ready line:\n${logs.slice(0, 2000)}`);
  return Number(m[1]);
}

describe("registry credentials", () => {
  it("never appear in the shim's trace log or /metrics", async () => {
    // crictl pull: no sandbox config, goes to default
    const plain = await failing(cri.image.PullImage?.({ image: { image: IMAGE }, auth: AUTH }));
    expect(plain).not.toBe("ok");

    // the kubelet's pull for a VM pod, then CreateContainer there: the shim pulls on nelly itself
    const config = podSandboxConfig("creds", { logRoot: backends.nelly.podLogDir });
    const { pod_sandbox_id: podId } = (await cri.runtime.RunPodSandbox?.({
      config,
      runtime_handler: "nelly",
    })) as Msg;
    const podPull = await failing(
      cri.image.PullImage?.({ image: { image: IMAGE }, auth: AUTH, sandbox_config: config }),
    );
    expect(podPull).not.toBe("ok");
    const create = await failing(
      cri.runtime.CreateContainer?.({
        pod_sandbox_id: podId,
        config: busyboxContainerConfig("private", ["true"], { image: IMAGE }),
        sandbox_config: config,
      }),
    );
    // each failed at the registry, i.e. after the shim had handled the credentials
    expect(plain).toMatch(/failed to pull/);
    expect(podPull).toMatch(/failed to pull/);
    expect(create).toMatch(/pulling .* into backend nelly/);
    expect(leaked(`${plain}\n${podPull}\n${create}`)).toEqual([]);

    const logs = shim.logs();
    expect(logs).toMatch(/PullImage/); // the calls were logged, just not their secrets
    expect(leaked(logs)).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort(logs)}/metrics`)).text();
    expect(metrics).toMatch(/hydra_shim_request_duration_seconds_count\{method="PullImage"/);
    expect(leaked(metrics)).toEqual([]);
  });
});
