// The one error the media work throws for a source it cannot process (a corrupt or unsupported image,
// a video ffmpeg cannot read). It is a property of the input, not of the moment: a job that meets it
// records it and fails at once instead of retrying (see src/jobs/queue.ts `nonRetryable`).

export class MediaProcessingError extends Error {
  override readonly name = 'MediaProcessingError';
  /** Never retry: the same input fails the same way. */
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The message of anything thrown, without its stack. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
