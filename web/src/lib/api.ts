// HTTP calls to /api/v1. Errors come back as {"error": {"code", "message"}}.

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

let token = "";

export function setToken(value: string): void {
  token = value;
}

/** The Authorization header for requests made outside `call` (uploads, media downloads). */
export function authHeader(): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "no connection");
  }
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = data?.error ?? {};
    throw new ApiError(res.status, err.code ?? "http_" + res.status, err.message ?? res.statusText);
  }
  return data as T;
}

/** The bearer token, for the few calls that send a raw body (a bank's hash list). */
export function bearer(): string {
  return token;
}
