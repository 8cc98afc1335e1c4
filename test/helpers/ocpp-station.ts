import ocppRpc from 'ocpp-rpc';

const { RPCClient } = ocppRpc;

export type Station = InstanceType<typeof RPCClient>;

/**
 * A charging station: ocpp-rpc's own client, in strict mode (it validates what it sends and
 * receives against the official schemas), connecting to the service's OCPP endpoint.
 */
export function station(
  serviceUrl: string,
  identity: string,
  password: string | undefined,
  protocols: string[] = ['ocpp1.6'],
  strictMode = true,
): Station {
  return new RPCClient({
    endpoint: `${serviceUrl.replace(/^http/, 'ws')}/ocpp`,
    identity,
    ...(password === undefined ? {} : { password }),
    protocols,
    strictMode,
    reconnect: false,
  } as ConstructorParameters<typeof RPCClient>[0]);
}

/** The HTTP status a refused upgrade answered (ocpp-rpc's UnexpectedHttpResponse carries it). */
export async function refusedStatus(client: Station): Promise<number | undefined> {
  try {
    await client.connect();
  } catch (error) {
    return (error as { code?: number }).code;
  }
  await client.close();
  return undefined;
}

/** The CALLERROR code and message a call was answered with (fails if it succeeded). */
export async function callError(
  client: Station,
  method: string,
  params: unknown,
): Promise<{ code: string; message: string }> {
  try {
    await client.call(method, params);
  } catch (error) {
    const rpc = error as { rpcErrorCode?: string; message: string };
    if (rpc.rpcErrorCode === undefined) throw error;
    return { code: rpc.rpcErrorCode, message: rpc.message };
  }
  throw new Error(`${method} succeeded`);
}
