// The routing table: one row per CRI method. Typed as Record<CriMethod, Route>, so a method
// without a row does not compile; shim/routing/table.test.ts checks the rows against proto/.
import type { Route } from "./context.js";
import type { CriMethod } from "../cri/methods.js";
import { LIST_FILTER } from "../wire/fields.js";
import { byContainer, byPodSandbox, forgetContainer, forgetSandbox } from "./strategies/by-owner.js";
import { restorePod, runPodSandbox } from "./strategies/by-handler.js";
import { createContainer } from "./strategies/create-container.js";
import { byImageHandler, byListImagesHandler, pullImage } from "./strategies/by-image.js";
import { fanOutList, type OwnerFilter } from "./strategies/fan-out.js";
import { status } from "./strategies/status.js";
import { toDefault, toEveryBackend, version } from "./strategies/simple.js";
import { fanOutStream, streamImages } from "./strategies/fan-out-stream.js";
import { containerEvents } from "./strategies/events.js";

const sandboxIdFilter: OwnerFilter[] = [{ path: LIST_FILTER.id, kind: "sandbox" }];
const containerFilters: OwnerFilter[] = [
  { path: LIST_FILTER.id, kind: "container" },
  { path: LIST_FILTER.containersSandboxId, kind: "sandbox" },
];
const containerStatsFilters: OwnerFilter[] = [
  { path: LIST_FILTER.id, kind: "container" },
  { path: LIST_FILTER.statsSandboxId, kind: "sandbox" },
];
export const ROUTES: Record<CriMethod, Route> = {
  // answered by the shim
  Version: { strategy: "local", unary: version },
  // by runtime_handler
  RunPodSandbox: { strategy: "by-handler", unary: runPodSandbox },
  RestorePod: { strategy: "by-handler", unary: restorePod },
  // by pod sandbox owner
  StopPodSandbox: { strategy: "by-pod (idempotent)", unary: byPodSandbox({ idempotent: true }) },
  RemovePodSandbox: {
    strategy: "by-pod (idempotent)",
    unary: byPodSandbox({ idempotent: true, after: forgetSandbox }),
  },
  PodSandboxStatus: { strategy: "by-pod", unary: byPodSandbox() },
  PodSandboxStats: { strategy: "by-pod", unary: byPodSandbox() },
  PortForward: { strategy: "by-pod (url rewrite)", unary: byPodSandbox({ rewriteUrl: true }) },
  UpdatePodSandboxResources: { strategy: "by-pod", unary: byPodSandbox() },
  CheckpointPod: { strategy: "by-pod", unary: byPodSandbox() },
  CreateContainer: { strategy: "by-pod (+ image on backend)", unary: createContainer },
  // by container owner
  StartContainer: { strategy: "by-container", unary: byContainer() },
  StopContainer: { strategy: "by-container (idempotent)", unary: byContainer({ idempotent: true }) },
  RemoveContainer: {
    strategy: "by-container (idempotent)",
    unary: byContainer({ idempotent: true, after: forgetContainer }),
  },
  ContainerStatus: { strategy: "by-container", unary: byContainer() },
  ContainerStats: { strategy: "by-container", unary: byContainer() },
  UpdateContainerResources: { strategy: "by-container", unary: byContainer() },
  ReopenContainerLog: { strategy: "by-container", unary: byContainer() },
  ExecSync: { strategy: "by-container", unary: byContainer() },
  Exec: { strategy: "by-container (url rewrite)", unary: byContainer({ rewriteUrl: true }) },
  Attach: { strategy: "by-container (url rewrite)", unary: byContainer({ rewriteUrl: true }) },
  CheckpointContainer: { strategy: "by-container", unary: byContainer() },
  // fan-out lists (merge by concatenation, last-known-good for a failing backend)
  ListPodSandbox: { strategy: "fan-out", unary: fanOutList("ListPodSandboxResponse", sandboxIdFilter) },
  ListContainers: { strategy: "fan-out", unary: fanOutList("ListContainersResponse", containerFilters) },
  ListContainerStats: {
    strategy: "fan-out",
    unary: fanOutList("ListContainerStatsResponse", containerStatsFilters),
  },
  ListPodSandboxStats: {
    strategy: "fan-out",
    unary: fanOutList("ListPodSandboxStatsResponse", sandboxIdFilter),
  },
  ListPodSandboxMetrics: { strategy: "fan-out", unary: fanOutList("ListPodSandboxMetricsResponse") },
  ListMetricDescriptors: { strategy: "fan-out", unary: fanOutList("ListMetricDescriptorsResponse") },
  // fan-out streams (pages relayed as they come)
  StreamPodSandboxes: { strategy: "fan-out stream", stream: fanOutStream(sandboxIdFilter) },
  StreamContainers: { strategy: "fan-out stream", stream: fanOutStream(containerFilters) },
  StreamContainerStats: { strategy: "fan-out stream", stream: fanOutStream(containerStatsFilters) },
  StreamPodSandboxStats: { strategy: "fan-out stream", stream: fanOutStream(sandboxIdFilter) },
  StreamPodSandboxMetrics: { strategy: "fan-out stream", stream: fanOutStream() },
  // runtime-wide
  Status: { strategy: "default + runtime_handlers of every backend", unary: status },
  UpdateRuntimeConfig: { strategy: "every backend", unary: toEveryBackend },
  RuntimeConfig: { strategy: "default", unary: toDefault },
  GetContainerEvents: { strategy: "events fan-in", stream: containerEvents },
  // images
  ImageStatus: { strategy: "by-image handler", unary: byImageHandler },
  RemoveImage: { strategy: "by-image handler", unary: byImageHandler },
  PullImage: { strategy: "by-image handler, else pod UID, else default", unary: pullImage },
  ListImages: { strategy: "by-image handler (filter), else default", unary: byListImagesHandler },
  StreamImages: { strategy: "by-image handler (filter), else default; stream", stream: streamImages },
  ImageFsInfo: { strategy: "default", unary: toDefault },
};
