// The chaos loop: kills and restarts the nelly containerd every nellyChaosEveryMs, restarts the
// shim every shimRestartEveryMs. Every second shim restart, the first included (so the 2-minute CI
// soak has one), happens while nelly is down: the shim must read its last good answers back from
// state_dir, or nelly's pods vanish from relists. Events run one at a time with a quiet gap after each.
import { setTimeout as sleep } from "node:timers/promises";
import type { SoakPlan } from "./config.js";

export type ChaosEvent = "kill-nelly" | "restart-shim" | "restart-shim-nelly-down";

export interface Schedule {
  nextNellyAt: number;
  nextShimAt: number;
  /** Shim restarts done so far: the 1st, 3rd, 5th… overlap a nelly outage. */
  shimRestarts: number;
}

/** First events: nelly half a period in, the shim a full period in (offset so they rarely meet). */
export function initialSchedule(start: number, plan: SoakPlan): Schedule {
  return {
    nextNellyAt: start + plan.nellyChaosEveryMs / 2,
    nextShimAt: start + plan.shimRestartEveryMs,
    shimRestarts: 0,
  };
}

/** The next event due at or before `now` (the older one first), or undefined. */
export function dueEvent(s: Schedule, now: number): ChaosEvent | undefined {
  const nelly = s.nextNellyAt <= now;
  const shim = s.nextShimAt <= now;
  const shimEvent = s.shimRestarts % 2 === 0 ? "restart-shim-nelly-down" : "restart-shim";
  if (nelly && shim) return s.nextNellyAt <= s.nextShimAt ? "kill-nelly" : shimEvent;
  return nelly ? "kill-nelly" : shim ? shimEvent : undefined;
}

/** Reschedules the event that ran; nothing else happens within chaosGapMs (relists settle first). */
export function advance(s: Schedule, e: ChaosEvent, now: number, plan: SoakPlan): Schedule {
  const next = { ...s };
  if (e !== "restart-shim") next.nextNellyAt = now + plan.nellyChaosEveryMs;
  if (e !== "kill-nelly") {
    next.nextShimAt = now + plan.shimRestartEveryMs;
    next.shimRestarts++;
  }
  const earliest = now + plan.chaosGapMs;
  return {
    ...next,
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
    } else if (e === "restart-shim-nelly-down") {
      await a.killNelly();
      await sleep(plan.nellyDownMs / 2);
      await a.restartShim();
      await sleep(Math.max(0, t0 + plan.nellyDownMs - now()));
      await a.restartNelly();
    } else {
      await a.restartShim();
    }
    a.onEvent(e, now() - t0);
    s = advance(s, e, now(), plan);
  }
}
