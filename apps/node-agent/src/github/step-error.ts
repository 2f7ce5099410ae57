/** A step of a `github-issue` attempt failed: its name becomes the report's `failedStep`. */
export class StepError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly exitCode: number | null = null,
  ) {
    super(message);
  }
}
