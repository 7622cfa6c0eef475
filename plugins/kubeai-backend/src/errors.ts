import { CustomErrorBase } from '@backstage/errors';

/**
 * A reference in a request body names something that does not exist (a dataset version, a run, a
 * model version in a traffic split, …) or a body breaks a rule no schema can say (shares that do not
 * add up to 100). Answered as 422 by the backend's error handler, which reads `statusCode`.
 *
 * The message starts with the offending field, e.g. `request/body/runId: run … not found`.
 *
 * @public
 */
export class UnprocessableEntityError extends CustomErrorBase {
  name = 'UnprocessableEntityError' as const;
  statusCode = 422 as const;
}

/**
 * The request body is larger than the configured limit. Answered as 413.
 *
 * @public
 */
export class PayloadTooLargeError extends CustomErrorBase {
  name = 'PayloadTooLargeError' as const;
  statusCode = 413 as const;
}
