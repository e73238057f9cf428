/**
 * An error an operation handler throws to answer like the real service: the
 * protocol codec turns `code` into the error name the SDK raises.
 */
export class SimError extends Error {
  override name = 'SimError';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

export const isSimError = (error: unknown): error is SimError => error instanceof SimError;
