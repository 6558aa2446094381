/** The cloud-image stand-in could not be built: the message names the step and the fix. */
export class CloudImageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CloudImageError";
  }
}
