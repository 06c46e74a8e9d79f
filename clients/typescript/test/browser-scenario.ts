// The page of the real-browser test (xtask/tests/it/browser.rs): bundled with
// esbuild, served from an origin other than the API's, and driven step by
// step through WebDriver. Each step uses the typed client exactly as the
// Next.js app would and reports what the browser let it see.

import { TaskApiError, TaskClient, TaskLimitReached } from "../src/index";

interface Setup {
  baseUrl: string;
  userId: string;
  token: string;
}

let setup: Setup | null = null;
/** Requests the page sent, to see that a 503 is retried exactly once. */
let sent = 0;

function client(token?: string): TaskClient {
  if (!setup) throw new Error("configure() first");
  const { baseUrl, userId } = setup;
  return new TaskClient({
    baseUrl,
    userId,
    getToken: () => token ?? setup!.token,
    fetch: (input, init) => {
      sent += 1;
      return fetch(input, init);
    },
  });
}

async function failure(action: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await action();
    return { failed: false };
  } catch (error) {
    if (error instanceof TaskApiError) {
      const limited = error instanceof TaskLimitReached ? { limit: error.limit, count: error.count } : {};
      return {
        failed: true,
        name: error.name,
        type: error.type,
        ...limited,
        status: error.status,
        title: error.title,
        detail: error.detail,
        errors: error.errors,
        wwwAuthenticate: error.wwwAuthenticate,
        retryAfter: error.retryAfter,
      };
    }
    return { failed: true, kind: (error as Error).name, message: String(error) };
  }
}

const steps = {
  configure(value: Setup) {
    setup = value;
    return { origin: location.origin };
  },

  /** A create, then its retry with the same Idempotency-Key. */
  async createAndRetry() {
    const api = client();
    const first = await api.create({ title: "from the browser", description: "typed client" });
    const again = await api.create({ title: "from the browser", description: "typed client" }, first.idempotencyKey);
    return {
      first: { id: first.task.id, location: first.location, replayed: first.replayed, etag: api.etagOf(first.task.id) },
      again: { id: again.task.id, location: again.location, replayed: again.replayed },
    };
  },

  /**
   * Plans a task as a page would: a priority, tags and a due date (a bare
   * date, then a datetime-local value), then a PUT that names none of them.
   */
  async plan(id: number) {
    const api = client();
    const planned = (task: { priority: string; tags: string[]; due_date: string | null }) => ({
      priority: task.priority,
      tags: task.tags,
      due_date: task.due_date,
    });
    const patched = await api.patch(id, { priority: "High", tags: ["Work", "work", "home"], due_date: "2026-01-31" });
    const timed = await api.patch(id, { due_date: "2026-01-31T09:30" });
    const kept = await api.update(id, { title: "from the browser", description: "typed client" });
    return { patched: planned(patched), timed: timed.due_date, kept: planned(kept) };
  },

  /** Every task, following Link page after page. */
  async listAll(limit: number) {
    const api = client();
    const pages: number[] = [];
    const ids: number[] = [];
    for await (const page of api.pages({ limit, sort: "created", order: "asc" })) {
      pages.push(page.length);
      ids.push(...page.map((task) => task.id));
    }
    return { pages, ids };
  },

  /** A create when the user already holds as many tasks as allowed. */
  async createAtTheLimit() {
    const before = sent;
    const result = await failure(() => client().create({ title: "one too many" }));
    return { ...result, requests: sent - before };
  },

  /** A change with the task's ETag, then one with a stale ETag (another tab won). */
  async editWithVersions(id: number) {
    const mine = client();
    const otherTab = client();
    const read = await mine.get(id);
    const again = await mine.get(id); // 304: answered from memory
    await otherTab.get(id);
    const seen = mine.etagOf(id);
    const done = await mine.complete(id, true);
    const lost = await failure(() => otherTab.complete(id, false));
    return {
      etag: seen,
      sameObject: again === read,
      completed: done.completed,
      newEtag: mine.etagOf(id),
      lost,
    };
  },

  async badToken() {
    return failure(() => client("not-a-jwt").list().next());
  },

  /** A listing while the database is down: one retry after Retry-After, then the error. */
  async duringOutage() {
    const before = sent;
    const result = await failure(() => client().list().next());
    return { ...result, requests: sent - before };
  },

  async afterOutage() {
    const first = await client().list({ limit: 1 }).next();
    return { ok: !first.done };
  },
};

(window as unknown as { taskApi: typeof steps }).taskApi = steps;
document.title = "task-api browser test: ready";
