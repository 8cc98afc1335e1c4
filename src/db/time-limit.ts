/**
 * Waits at most `ms` for a query, then fails with QUERY_TIMEOUT (a 503). The server-side
 * statement_timeout normally fires first and cancels the statement; this is for a server
 * that hangs or ignores it (the embedded one), where a cancel request could not get through
 * either: the query's late outcome is dropped. The read router bounds its replica probes with it.
 */
export function within<T>(
  query: Promise<T>,
  ms: number,
  what = `the database did not answer within ${ms} ms`,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      query.catch(() => undefined);
      reject(Object.assign(new Error(what), { code: 'QUERY_TIMEOUT' }));
    }, ms);
    query.then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: Error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
