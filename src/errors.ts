/**
 * An error in the plugin's input: a bad option, an unsupported construct, a
 * name the plugin cannot express. It is reported to protoc / buf through the
 * CodeGeneratorResponse `error` field, without a stack trace, and no file is
 * emitted.
 *
 * Messages have the stable form `<file>: <element>: <problem>`, for example
 * `foo/v1/foo.proto: rpc foo.v1.Svc.Close: ...`.
 */
export class UserError extends Error {
  override name = "UserError";
}

/**
 * Create a UserError located at a proto file and, optionally, an element of it.
 *
 * @param file - the proto file name as protoc gives it, e.g. `foo/v1/foo.proto`
 * @param element - e.g. `rpc foo.v1.Svc.Get` or `service foo.v1.Svc`
 */
export function userErrorAt(file: string, element: string | undefined, problem: string): UserError {
  return new UserError(element === undefined ? `${file}: ${problem}` : `${file}: ${element}: ${problem}`);
}

/** True for errors that are the input's fault and reach protoc as a message. */
export function isUserError(err: unknown): err is Error {
  return err instanceof Error && (err.name === "UserError" || err.name === "PluginOptionError");
}
