/**
 * The HTTP layer's expected failures, each a SupError with a stable code.
 */
import { SupError } from "../errors.ts";

/** A route name is not `METHOD /path` with valid segments. */
export class RouteNameError extends SupError {
  constructor(message: string) {
    super("route-name", message);
  }
}

/** A request body is larger than the limit (answered with 413). */
export class RequestBodyTooLargeError extends SupError {
  constructor(readonly limitBytes: number) {
    super("request-body-too-large", `Cannot read request body: larger than ${limitBytes} bytes`);
  }
}

/** The server was used in a way its state does not allow (started twice, stopped before starting). */
export class HttpServerStateError extends SupError {
  constructor(message: string) {
    super("http-server-state", message);
  }
}
