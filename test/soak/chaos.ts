// The chaos loop: kills and restarts the nelly containerd every nellyChaosEveryMs, restarts the
// shim every shimRestartEveryMs. One event at a time, so the shim is never restarted while nelly
// is down (that would drop its last-known-good lists by design, see docs/failure-modes.md).
import { setTimeout as sleep } from "node:timers/promises";
import type { SoakPlan } from "./config.js";

export type ChaosEvent = "kill-nelly" | "restart-shim";

export interface Schedule {
  nextNellyAt: number;
  nextShimAt: number;
}

/** First events: nelly half a period in, the shim a full period in (offset so they rarely meet). */
export function initialSchedule(start: number, plan: SoakPlan): Schedule {
  return { nextNellyAt: start + plan.nellyChaosEveryMs / 2, nextShimAt: start + plan.shimRestartEveryMs };
}

/** The next event due at or before `now` (the older one first), or undefined. */
export function dueEvent(s: Schedule, now: number): ChaosEvent | undefined {
  const nelly = s.nextNellyAt <= now;
  const shim = s.nextShimAt <= now;
  if (nelly && shim) return s.nextNellyAt <= s.nextShimAt ? "kill-nelly" : "restart-shim";
  return nelly ? "kill-nelly" : shim ? "restart-shim" : undefined;
}

/** Reschedules the event that ran; nothing else happens within chaosGapMs (relists settle first). */
export function advance(s: Schedule, e: ChaosEvent, now: number, plan: SoakPlan): Schedule {
  const next =
    e === "kill-nelly"
      ? { ...s, nextNellyAt: now + plan.nellyChaosEveryMs }
      : { ...s, nextShimAt: now + plan.shimRestartEveryMs };
  const earliest = now + plan.chaosGapMs;
  return {
    nextNellyAt: Math.max(next.nextNellyAt, earliest),
    nextShimAt: Math.max(next.nextShimAt, earliest),
  };
}

export interface ChaosActions {
  killNelly(): Promise<void>;
  restartNelly(): Promise<void>;
  restartShim(): Promise<void>;
  stopping(): boolean;
  /** Called with each event as it completes (for the log line). */
  onEvent(e: ChaosEvent, ms: number): void;
}

/** Runs until stopping(); an event in progress always completes (nelly is up when it returns). */
export async function chaosLoop(
  plan: SoakPlan,
  a: ChaosActions,
  now: () => number = Date.now,
): Promise<void> {
  let s = initialSchedule(now(), plan);
  while (!a.stopping()) {
    const e = dueEvent(s, now());
    if (!e) {
      await sleep(250);
      continue;
    }
    const t0 = now();
    if (e === "kill-nelly") {
      await a.killNelly();
      await sleep(plan.nellyDownMs);
      await a.restartNelly();
    } else {
      await a.restartShim();
    }
    a.onEvent(e, now() - t0);
    s = advance(s, e, now(), plan);
  }
}
