// The shim child process (test/harness/shim.ts spawnShim) across planned restarts and crashes:
// restarts it on request, notices when it dies unasked and brings it back (retrying, since a start
// can be slow on a loaded 2-core host), and hands the load a kubelet-like client of the shim.
import { setTimeout as sleep } from "node:timers/promises";
import type { CriClient } from "../harness/cri-client.js";
import {
  spawnShim,
  type SpawnedShim,
  type SpawnProcessOptions,
  type TestShimOptions,
} from "../harness/shim.js";
import { KUBELET_MAX_BACKOFF_MS, kubeletClient } from "./kubelet-client.js";

const START_ATTEMPTS = 3;
const WATCH_MS = 500;
const LOG_TAIL_LINES = 30;

export class ShimSupervisor {
  private shim?: SpawnedShim;
  private current?: CriClient;
  private restarting = false;
  private lastRestartEnd = -Infinity;
  private watching?: Promise<void>;
  private stopped = false;
  /** Unplanned exits and restarts that failed, each with the log tail. */
  readonly crashes: string[] = [];
  restarts = 0;

  constructor(
    private readonly options: TestShimOptions,
    private readonly log: (line: string) => void,
    private readonly proc: SpawnProcessOptions = {},
  ) {}

  /** The running shim's pid; undefined while it restarts. */
  get pid(): number | undefined {
    return this.restarting ? undefined : this.shim?.process?.pid;
  }

  /** Signals the running shim (no-op while it restarts). */
  signal(sig: NodeJS.Signals): void {
    if (!this.restarting) this.shim?.signal(sig);
  }

  client(): CriClient {
    if (!this.current) throw new Error("the shim is not running");
    return this.current;
  }

  /**
   * True when a call started at `since` may have failed because of a restart (planned or after a
   * crash): one was in progress, or ended less than the client's reconnect backoff before it.
   */
  restartedSince(since: number): boolean {
    return this.restarting || since <= this.lastRestartEnd + KUBELET_MAX_BACKOFF_MS;
  }

  /** Starts the shim, the client and the crash watch. */
  async run(): Promise<void> {
    this.shim = await spawnShim(this.options, [], this.proc);
    this.current = kubeletClient(this.shim.endpoint);
    this.watching = this.watch();
  }

  /** Planned restart: SIGTERM (the shim drains), then a new process on the same socket. */
  restart(): Promise<void> {
    return this.around(async () => {
      await this.startAgain();
      this.restarts++;
    });
  }

  private tail(): string {
    return (this.shim?.logs() ?? "").split("\n").slice(-LOG_TAIL_LINES).join("\n");
  }

  private async startAgain(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.shim?.restart();
        return;
      } catch (err) {
        this.log(`shim start attempt ${attempt} failed: ${(err as Error).message.split("\n")[0]}`);
        if (attempt >= START_ATTEMPTS) throw err;
      }
    }
  }

  private async around(fn: () => Promise<void>): Promise<void> {
    this.restarting = true;
    try {
      await fn();
    } catch (err) {
      this.crashes.push(`restart failed at ${new Date().toISOString()}: ${String(err)}\n${this.tail()}`);
    } finally {
      this.restarting = false;
      this.lastRestartEnd = performance.now();
    }
  }

  private async watch(): Promise<void> {
    while (!this.stopped) {
      await sleep(WATCH_MS);
      const child = this.shim?.process;
      if (this.stopped || this.restarting || (child && child.exitCode === null && child.signalCode === null))
        continue;
      if (child) {
        this.crashes.push(
          `pid ${child.pid} exited unasked (code ${child.exitCode}, signal ${child.signalCode}) at ${new Date().toISOString()}; log tail:\n${this.tail()}`,
        );
        this.log(`SHIM CRASH (pid ${child.pid}); starting a new one`);
      }
      await this.around(() => this.startAgain());
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watching;
    this.current?.close();
    await this.shim?.stop();
  }
}
