// Every CRI v1 method with its service, streaming kind and message names. The routing table is a
// Record over CriMethod, so a method without a route does not compile; a test checks this list
// against proto/runtime/v1/api.proto in both directions.
import { CRI_PACKAGE } from "../constants.js";

export type CriService = "RuntimeService" | "ImageService";

export interface MethodInfo {
  service: CriService;
  /** Server-streaming response. CRI v1 has no client- or bidi-streaming methods. */
  stream: boolean;
  request: string;
  response: string;
}

const r = (request: string, response: string, stream = false): MethodInfo => ({
  service: "RuntimeService",
  stream,
  request,
  response,
});
const i = (request: string, response: string, stream = false): MethodInfo => ({
  service: "ImageService",
  stream,
  request,
  response,
});

export const METHODS = {
  Version: r("VersionRequest", "VersionResponse"),
  RunPodSandbox: r("RunPodSandboxRequest", "RunPodSandboxResponse"),
  StopPodSandbox: r("StopPodSandboxRequest", "StopPodSandboxResponse"),
  RemovePodSandbox: r("RemovePodSandboxRequest", "RemovePodSandboxResponse"),
  PodSandboxStatus: r("PodSandboxStatusRequest", "PodSandboxStatusResponse"),
  ListPodSandbox: r("ListPodSandboxRequest", "ListPodSandboxResponse"),
  StreamPodSandboxes: r("StreamPodSandboxesRequest", "StreamPodSandboxesResponse", true),
  CreateContainer: r("CreateContainerRequest", "CreateContainerResponse"),
  StartContainer: r("StartContainerRequest", "StartContainerResponse"),
  StopContainer: r("StopContainerRequest", "StopContainerResponse"),
  RemoveContainer: r("RemoveContainerRequest", "RemoveContainerResponse"),
  ListContainers: r("ListContainersRequest", "ListContainersResponse"),
  StreamContainers: r("StreamContainersRequest", "StreamContainersResponse", true),
  ContainerStatus: r("ContainerStatusRequest", "ContainerStatusResponse"),
  UpdateContainerResources: r("UpdateContainerResourcesRequest", "UpdateContainerResourcesResponse"),
  ReopenContainerLog: r("ReopenContainerLogRequest", "ReopenContainerLogResponse"),
  ExecSync: r("ExecSyncRequest", "ExecSyncResponse"),
  Exec: r("ExecRequest", "ExecResponse"),
  Attach: r("AttachRequest", "AttachResponse"),
  PortForward: r("PortForwardRequest", "PortForwardResponse"),
  ContainerStats: r("ContainerStatsRequest", "ContainerStatsResponse"),
  ListContainerStats: r("ListContainerStatsRequest", "ListContainerStatsResponse"),
  StreamContainerStats: r("StreamContainerStatsRequest", "StreamContainerStatsResponse", true),
  PodSandboxStats: r("PodSandboxStatsRequest", "PodSandboxStatsResponse"),
  ListPodSandboxStats: r("ListPodSandboxStatsRequest", "ListPodSandboxStatsResponse"),
  StreamPodSandboxStats: r("StreamPodSandboxStatsRequest", "StreamPodSandboxStatsResponse", true),
  UpdateRuntimeConfig: r("UpdateRuntimeConfigRequest", "UpdateRuntimeConfigResponse"),
  Status: r("StatusRequest", "StatusResponse"),
  CheckpointContainer: r("CheckpointContainerRequest", "CheckpointContainerResponse"),
  CheckpointPod: r("CheckpointPodRequest", "CheckpointPodResponse"),
  RestorePod: r("RestorePodRequest", "RestorePodResponse"),
  GetContainerEvents: r("GetEventsRequest", "ContainerEventResponse", true),
  ListMetricDescriptors: r("ListMetricDescriptorsRequest", "ListMetricDescriptorsResponse"),
  ListPodSandboxMetrics: r("ListPodSandboxMetricsRequest", "ListPodSandboxMetricsResponse"),
  StreamPodSandboxMetrics: r("StreamPodSandboxMetricsRequest", "StreamPodSandboxMetricsResponse", true),
  RuntimeConfig: r("RuntimeConfigRequest", "RuntimeConfigResponse"),
  UpdatePodSandboxResources: r("UpdatePodSandboxResourcesRequest", "UpdatePodSandboxResourcesResponse"),
  ListImages: i("ListImagesRequest", "ListImagesResponse"),
  StreamImages: i("StreamImagesRequest", "StreamImagesResponse", true),
  ImageStatus: i("ImageStatusRequest", "ImageStatusResponse"),
  PullImage: i("PullImageRequest", "PullImageResponse"),
  RemoveImage: i("RemoveImageRequest", "RemoveImageResponse"),
  ImageFsInfo: i("ImageFsInfoRequest", "ImageFsInfoResponse"),
} as const satisfies Record<string, MethodInfo>;

export type CriMethod = keyof typeof METHODS;

export const CRI_METHODS = Object.keys(METHODS) as CriMethod[];

/** The HTTP/2 path of a method: "/runtime.v1.RuntimeService/Version". */
export function methodPath(method: CriMethod): string {
  return `/${CRI_PACKAGE}.${METHODS[method].service}/${method}`;
}

/** Precomputed paths for calls the shim makes itself. */
export const PATHS = Object.fromEntries(CRI_METHODS.map((m) => [m, methodPath(m)])) as Record<
  CriMethod,
  string
>;
