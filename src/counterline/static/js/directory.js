// The staff directory, asked once per page. Server contract: GET /api/v1/users →
// {"users": [{id, username, display_name, role, branch_id, branch_name, online, last_seen_at,
// pinyin, initials}]} (accounts/routes.py), with an ETag and "Cache-Control: private,
// no-cache": the browser keeps the answer and asks again with If-None-Match, so the next page
// gets a 304 while the directory is unchanged instead of its 200 KB.

let asked = null;

/** The active users (a promise shared by the page's scripts; asked again after a failure). */
export function directory(api) {
  asked ??= api.get("/users").then(({ users }) => users, (error) => {
    asked = null;
    throw error;
  });
  return asked;
}
