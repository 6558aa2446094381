// The field numbers the shim reads or writes, named after proto/runtime/v1/api.proto. Paths go from
// the outer message inwards. Nothing else of any message is interpreted.

type Path = readonly number[];

/** `string pod_sandbox_id = 1` / `string container_id = 1`: the first field of most per-object requests. */
export const ID_FIELD: Path = [1];

export const RUN_POD_SANDBOX = {
  config: [1] as Path,
  podUid: [1, 1, 2] as Path, // config.metadata.uid
  handler: [2] as Path,
  responseSandboxId: [1] as Path,
};

export const RESTORE_POD = {
  config: [2] as Path,
  podUid: [2, 1, 2] as Path,
  handler: [3] as Path,
  responseSandboxId: [1] as Path,
  responseRestored: 2, // repeated RestoredContainer
  restoredContainerId: [2] as Path,
};

export const CREATE_CONTAINER = {
  sandboxId: [1] as Path,
  imageSpec: [2, 2] as Path, // config.image
  imageHandler: [2, 2, 19] as Path, // config.image.runtime_handler
  sandboxConfig: [3] as Path,
  podUid: [3, 1, 2] as Path, // sandbox_config.metadata.uid
  responseContainerId: [1] as Path,
};

/** List filters: ListPodSandbox / ListPodSandboxStats (id), ListContainers / ListContainerStats. */
export const LIST_FILTER = {
  id: [1, 1] as Path,
  containersSandboxId: [1, 3] as Path, // ContainerFilter.pod_sandbox_id
  statsSandboxId: [1, 2] as Path, // ContainerStatsFilter.pod_sandbox_id
  imagesHandler: [1, 1, 19] as Path, // ListImagesRequest.filter.image.runtime_handler
};

/** Items of ListPodSandboxResponse (PodSandbox) and ListContainersResponse (Container). */
export const LIST_ITEMS = 1;
export const POD_SANDBOX = { id: [1] as Path, uid: [2, 2] as Path };
export const CONTAINER = { id: [1] as Path, sandboxId: [2] as Path };

export const POD_SANDBOX_STATUS_RESPONSE = { uid: [1, 2, 2] as Path };

export const IMAGE_SPEC = { image: 1, userSpecifiedImage: 18, runtimeHandler: 19 };

/** ImageStatusRequest, PullImageRequest, RemoveImageRequest: `ImageSpec image = 1`. */
export const IMAGE_REQUEST = {
  spec: 1,
  image: [1, 1] as Path,
  handler: [1, 19] as Path,
};
export const PULL_IMAGE = { auth: 2, sandboxConfig: 3, podUid: [3, 1, 2] as Path };
export const IMAGE_STATUS_RESPONSE = { image: [1] as Path };

/** ExecResponse, AttachResponse, PortForwardResponse: `string url = 1`. */
export const URL_FIELD = 1;

export const RUNTIME_HANDLER = { name: 1 };
export const STATUS_RESPONSE = { runtimeHandlers: 3 };

export const VERSION_RESPONSE = { version: 1, runtimeName: 2, runtimeVersion: 3, runtimeApiVersion: 4 };
