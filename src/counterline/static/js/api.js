// Server contract: the JSON API under /api/v1; errors are {"error": "<message>"} with a 4xx or
// 5xx status (429 and 503 may say Retry-After: seconds); state changes made with the session
// cookie carry X-CSRF-Token. A network failure rejects with an ApiError whose status is 0.

export class ApiError extends Error {
  constructor(message, status, retryAfterSeconds = 0) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Worth trying again unchanged: no answer, overloaded, or a server-side failure. */
  get transient() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export function makeApi(csrfToken, fallbackMessage) {
  async function request(method, path, body) {
    // The API answers errors in the language of Accept-Language: the page's own.
    const headers = {
      Accept: "application/json",
      "Accept-Language": document.documentElement.lang || "zh-CN",
      "X-CSRF-Token": csrfToken,
    };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(`/api/v1${path}`, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(fallbackMessage, 0);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const retryAfter = Number(response.headers.get("Retry-After")) || 0;
      throw new ApiError((data && data.error) || fallbackMessage, response.status, retryAfter);
    }
    return data;
  }
  return {
    get: (path) => request("GET", path),
    post: (path, body) => request("POST", path, body),
    put: (path, body) => request("PUT", path, body),
    patch: (path, body) => request("PATCH", path, body),
    delete: (path) => request("DELETE", path),
  };
}

// crypto.randomUUID needs a secure context; intranet http:// pages are not one.
export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
