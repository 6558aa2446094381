// The shim alone at scale, against in-repo fake backends (no containerd).
import type { RunContext } from "./context.js";

export type SyntheticPhase = string;

export function syntheticSteps(_ctx: Pick<RunContext, "plan" | "only">): {
  phases: SyntheticPhase[];
  total: number;
} {
  return { phases: [], total: 0 };
}

export async function runSynthetic(_ctx: RunContext, _phases: SyntheticPhase[]): Promise<void> {
  throw new Error("synthetic mode: waiting for test/fakes/fake-cri-backend.ts");
}
