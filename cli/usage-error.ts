/**
 * A mistake in the command line. main() turns it into exit code 2 with the message on stderr, before anything is
 * sent: a purchase is never placed from a command line that was only half understood.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';

  /** `command` names the help to point at (`order create`), when the mistake is within one command. */
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}
