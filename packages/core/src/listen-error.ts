/** Names of the variables that set a server's listen address, for start-up error messages. */
export interface ListenVariables {
  hostVariable: string;
  portVariable: string;
  host: string;
  port: number;
}

/**
 * Turns a failed `listen()` into one sentence that names the variable to change, or returns
 * undefined for errors that are not about the address.
 */
export function describeListenError(error: unknown, address: ListenVariables): string | undefined {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  const { hostVariable, portVariable, host, port } = address;
  switch (code) {
    case "EADDRINUSE":
      return `${portVariable}=${port} is already in use on ${host}; stop the other process or choose a free port`;
    case "EACCES":
      return `${portVariable}=${port} needs privileges this process lacks; choose a port above 1023`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EADDRNOTAVAIL":
    case "EAI_NONAME":
      return `${hostVariable}=${host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 or one of its interface addresses`;
    default:
      return undefined;
  }
}
