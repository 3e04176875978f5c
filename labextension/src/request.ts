/**
 * The one way the sidebar talks to the server extension.
 *
 * Every call goes through Jupyter's ServerConnection so that the token, XSRF cookie and base URL
 * are handled the same way as for JupyterLab's own requests.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IErrorResponse } from './tokens';

/** The route namespace of the server extension. */
export const API_NAMESPACE = 'jupyter-mlops/api';

/** An HTTP error answered by the server extension, with its message and hint. */
export class MlopsRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint: string | null = null
  ) {
    super(message);
  }

  /** Message and hint as one line of text, for display. */
  toString(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/**
 * Call `/jupyter-mlops/api/<endPoint>` and return its JSON body.
 *
 * @param endPoint path below the namespace, e.g. `runs?limit=20`
 * @param init fetch options (method, body)
 * @throws MlopsRequestError on any non-2xx answer or network failure
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {}
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new MlopsRequestError(
      0,
      `cannot reach the Jupyter server: ${String(error)}`
    );
  }

  const text = await response.text();
  let data: unknown = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const body = (data ?? {}) as Partial<IErrorResponse>;
    throw new MlopsRequestError(
      response.status,
      body.error ?? `server answered ${response.status} ${response.statusText}`,
      body.hint ?? null
    );
  }
  return data as T;
}
