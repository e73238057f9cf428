/** An event or invocation payload that cannot be acted on; the message names the field. */
export class InvalidCleanupInputError extends Error {
  override name = 'InvalidCleanupInputError';
}

/**
 * SendCommand did not take some batches. Their dedup marks were released
 * first, so that Lambda's async retry of the same event sends them, and only them.
 */
export class SendCommandFailedError extends Error {
  override name = 'SendCommandFailedError';
}
