/**
 * A setup step failed. The message is one line naming what failed, why, and where its log is:
 * the CLI and `npm test` print it as it is, without a stack trace.
 */
export class SetupError extends Error {
  override name = 'SetupError';
}
