// The listener page: the reference client of voj's listening API (docs/listener-page.md).
// No framework and no build step; nothing is fetched from another host except the covers and
// the audio the API names. Tokens: the access token lives in this module's memory only; the
// refresh token is an HttpOnly cookie that only /listen/session/* receives.

const $ = (id) => document.getElementById(id);
const REPORT_EVERY_MS = 30_000; // docs/listening.md: every 30 s while playing, and at once on pause
const RETRY_MS = 15_000;
const RENEW_BEFORE_MS = 120_000; // a new stream URL this long before the old one expires
const FURTHEST_AHEAD_SECONDS = 60;

class SignedOut extends Error {}
class ApiError extends Error {
  constructor(status, body) {
    super(body.detail || `HTTP ${status}`);
    this.status = status;
    this.code = body.code;
  }
}

// --- session: sign-in, refresh, sign-out -------------------------------------------------

let access = null;
let accessTimer = null;
let refreshing = null;
let user = null;

function tokenExpiry(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp * 1000;
  } catch {
    return 0;
  }
}

function accessSet(token) {
  access = token;
  clearTimeout(accessTimer);
  if (!token) return;
  // Refreshed ahead of time, so that a report sent as the page is left never meets an
  // expired token (a keepalive request cannot wait for a refresh).
  const wait = Math.max(5_000, tokenExpiry(token) - Date.now() - 60_000);
  accessTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

function sessionPost(path, body = {}) {
  return fetch(`/listen/session${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
}

function refresh() {
  refreshing ??= (async () => {
    let response = await sessionPost("/refresh");
    if (response.status === 401) {
      // Another tab of this browser may have just used the cookie's token and put a new one
      // in its place: try once more with whatever the cookie holds now.
      await new Promise((resolve) => setTimeout(resolve, 500));
      response = await sessionPost("/refresh");
    }
    if (!response.ok) {
      accessSet(null);
      throw new SignedOut();
    }
    accessSet((await response.json()).access);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

function send(path, { method = "GET", body, keepalive = false } = {}) {
  const headers = { Authorization: `Bearer ${access}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return fetch(`/api/v1/${path}`, { method, headers, body: payload, keepalive });
}

// Sends at once when a token is at hand: a report made as the page is left must be on its
// way before the handler returns.
async function api(path, options = {}) {
  if (!access) await refresh();
  let response = await send(path, options);
  if (response.status === 401) {
    await refresh();
    response = await send(path, options);
  }
  if (response.status === 401) throw new SignedOut();
  return response;
}

async function apiJson(path, options) {
  const response = await api(path, options);
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
  return response.status === 204 ? null : response.json();
}

function apiPath(next) {
  const url = new URL(next, location.href);
  return url.pathname.replace(/^\/api\/v1\//, "") + url.search;
}

// --- small helpers -----------------------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}

// Every handler goes through here: a failure is shown, never left as an unhandled rejection.
function guard(handler) {
  return async (...args) => {
    try {
      await handler(...args);
    } catch (error) {
      if (error instanceof SignedOut) return showSignIn("Your session ended: sign in again.");
      notice(error instanceof TypeError ? "Offline: check the connection." : error.message);
    }
  };
}

function deviceName() {
  let name = localStorage.getItem("voj-listen-device");
  if (!name) {
    const platform = navigator.userAgentData?.platform || navigator.platform || "browser";
    const tag = crypto.getRandomValues(new Uint16Array(1))[0].toString(16).padStart(4, "0");
    name = `Web · ${platform} · ${tag}`.slice(0, 100);
    localStorage.setItem("voj-listen-device", name);
  }
  return name;
}
const device = deviceName();

function coverBox(url, title) {
  const box = el("div", { className: "cover" });
  const initial = () => {
    box.replaceChildren([...(title || "?").trim()][0] || "?");
    box.setAttribute("aria-hidden", "true");
  };
  if (url) {
    const image = el("img", { src: url, alt: "", loading: "lazy", decoding: "async" });
    image.addEventListener("error", initial);
    box.append(image);
  } else {
    initial();
  }
  return box;
}

// --- views -------------------------------------------------------------------------------

function show(view) {
  for (const id of ["sign-in", "library", "book"]) $(id).hidden = id !== view;
}

function showSignIn(message = "") {
  accessSet(null);
  user = null;
  playerStop();
  $("account").hidden = true;
  $("sign-in-error").textContent = message;
  notice("");
  show("sign-in");
}

async function signedIn(me) {
  user = me;
  pendingLoad();
  $("account-name").textContent = me.username;
  $("account").hidden = false;
  $("password").value = "";
  notice("");
  await route();
  flush().catch(() => {});
  if (!$("library").hidden) $("search").focus();
}

async function route() {
  const match = location.hash.match(/^#book\/([\w-]+)$/);
  if (match) return bookOpen(match[1]);
  show("library");
  await Promise.all([shelfLoad(), booksLoad()]);
}

async function shelfLoad() {
  const page = await apiJson("me/progress?limit=20");
  $("shelf").replaceChildren(
    ...page.results.map((item) => {
      const where = item.finished
        ? "Finished"
        : `Chapter ${item.latest.chapter_number} · ${clock(item.latest.position_seconds)}`;
      const cover = item.cover_url ?? item.book?.cover_url ?? null;
      const button = el(
        "button",
        { type: "button" },
        coverBox(cover, item.book_title),
        el("span", { className: "entry-text" }, el("strong", {}, item.book_title), el("span", {}, where)),
      );
      button.addEventListener("click", () => (location.hash = `#book/${item.book_id}`));
      return el("li", {}, button);
    }),
  );
  $("shelf-section").hidden = page.results.length === 0;
}

let booksNext = null;
let query = "";

async function booksLoad(more = false) {
  const params = new URLSearchParams({ limit: "24" });
  if (query) params.set("q", query);
  const page = await apiJson(more && booksNext ? apiPath(booksNext) : `books?${params}`);
  if (!more) $("books").replaceChildren();
  for (const book of page.results) {
    if (book.status !== "published") continue; // an editor's own drafts are not for listening
    const button = el(
      "button",
      { type: "button" },
      coverBox(book.cover_url ?? null, book.title),
      el("span", { className: "entry-text" }, el("strong", {}, book.title), el("span", {}, book.author)),
    );
    button.addEventListener("click", () => (location.hash = `#book/${book.id}`));
    $("books").append(el("li", {}, button));
  }
  booksNext = page.next;
  $("books-more").hidden = !booksNext;
  $("books-empty").hidden = $("books").children.length > 0;
  $("books-title").textContent = query ? `Books matching “${query}”` : "Books";
}

// --- a book --------------------------------------------------------------------------------

const current = { book: null, chapters: [], chapter: null };

const chapterById = (id) => current.chapters.find((chapter) => chapter.id === id);

async function chaptersAll(bookId) {
  const chapters = [];
  let path = `books/${bookId}/chapters?limit=100`;
  while (path) {
    const page = await apiJson(path);
    chapters.push(...page.results.filter((chapter) => chapter.status === "ready"));
    path = page.next ? apiPath(page.next) : null;
  }
  return chapters;
}

async function progressGet(bookId) {
  const response = await api(`me/progress/${bookId}`);
  if (response.status === 404) return null;
  if (!response.ok) throw new ApiError(response.status, await response.json());
  return response.json();
}

async function bookOpen(bookId) {
  if (current.book?.id !== bookId) {
    if (current.chapter) report("leave book");
    playerStop();
  }
  const [book, chapters, progress] = await Promise.all([
    apiJson(`books/${bookId}`),
    chaptersAll(bookId),
    progressGet(bookId),
  ]);
  Object.assign(current, { book, chapters });
  $("book-title").textContent = book.title;
  $("book-author").textContent = book.author;
  $("book-description").textContent = book.description;
  $("book-cover").replaceWith(Object.assign(coverBox(book.cover_url ?? null, book.title), { id: "book-cover" }));
  $("chapters").replaceChildren(
    ...chapters.map((chapter) => {
      const length = chapter.duration_seconds == null ? "" : ` (${clock(chapter.duration_seconds)})`;
      const button = el("button", { type: "button" }, `${chapter.number}. ${chapter.title}${length}`);
      button.dataset.chapter = chapter.id;
      button.addEventListener("click", guard(() => chapterPlay(chapter.id, 0)));
      return el("li", {}, button);
    }),
  );
  resumeShow(progress);
  show("book");
  $("book-title").focus();
  if (current.chapter) chapterMark();
}

function positionLabel(position) {
  const chapter = chapterById(position.chapter_id);
  const name = chapter ? chapter.title : `Chapter ${position.chapter_number}`;
  return `${name} · ${clock(position.position_seconds)}`;
}

function isAhead(a, b) {
  if (a.chapter_number !== b.chapter_number) return a.chapter_number > b.chapter_number;
  return a.position_seconds - b.position_seconds > FURTHEST_AHEAD_SECONDS;
}

function resumeShow(progress) {
  const latest = progress?.latest;
  $("resume").hidden = !latest || !chapterById(latest.chapter_id);
  if ($("resume").hidden) return;
  const where = latest.device && latest.device !== device ? ` (on ${latest.device})` : "";
  $("continue").textContent = `Continue at ${positionLabel(latest)}${where}`;
  $("continue").onclick = guard(() => chapterPlay(latest.chapter_id, latest.position_seconds));
  const furthest = progress.furthest;
  const offer = chapterById(furthest.chapter_id) && isAhead(furthest, latest);
  $("furthest").hidden = !offer;
  if (offer) {
    $("furthest").textContent = `Jump to the furthest point: ${positionLabel(furthest)}`;
    $("furthest").onclick = guard(() => chapterPlay(furthest.chapter_id, furthest.position_seconds));
  }
}

// --- the player --------------------------------------------------------------------------

const audio = $("audio");
let stream = null; // {chapterId}: the chapter the audio's source belongs to
let renewTimer = null;
let reportTimer = null;
let loading = false; // while a source is swapped: its seeks are not the listener's
let seeking = false; // while the position slider is dragged
let lastError = 0;

function chapterMark() {
  for (const button of $("chapters").querySelectorAll("button")) {
    button.setAttribute("aria-current", String(button.dataset.chapter === current.chapter?.id));
  }
}

async function chapterPlay(chapterId, position) {
  const chapter = chapterById(chapterId);
  if (!chapter) return notice("That chapter is no longer available.");
  if (current.chapter && current.chapter.id !== chapterId && audio.src) report("chapter change");
  notice("");
  // Until the new source is in, the old one must neither play on nor be reported as this one.
  loading = true;
  audio.pause();
  current.chapter = chapter;
  chapterMark();
  $("player").hidden = false;
  $("now-playing").textContent = `${chapter.number}. ${chapter.title}`;
  $("other-device").hidden = true;
  try {
    await streamLoad(position, true);
  } catch (error) {
    audio.removeAttribute("src"); // the old chapter's audio must not pass for this one
    audio.load();
    loading = false;
    throw error;
  }
  await bookmarksLoad();
}

async function streamLoad(position, play) {
  const chapterId = current.chapter.id;
  // Named with its book: one read on the server instead of two (docs/performance.md).
  const response = await api(`books/${current.book.id}/chapters/${chapterId}/stream-url`);
  const link = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, link);
  if (current.chapter?.id !== chapterId) return; // another chapter was chosen meanwhile
  stream = { chapterId };
  // The URL's lifetime by the server's clock: a device whose clock is off would otherwise
  // renew far too late, or over and over.
  const serverNow = Date.parse(response.headers.get("Date")) || Date.now();
  renewSchedule(Date.parse(link.expires_at) - serverNow);
  await sourceSet(link.url, position, play);
}

// A play() cut short by a new source (a renewed URL, another chapter) is no failure.
function playRefused(error) {
  if (error.name !== "AbortError") notice(`Press Play to listen (${error.message}).`);
}

function sourceSet(url, position, play) {
  loading = true;
  return new Promise((resolve) => {
    audio.addEventListener(
      "loadedmetadata",
      () => {
        const end = Number.isFinite(audio.duration) ? audio.duration : position;
        if (position > 0) {
          audio.addEventListener("seeked", () => (loading = false), { once: true });
          audio.currentTime = Math.min(position, end);
        } else {
          loading = false;
        }
        if (play) audio.play().catch(playRefused);
        resolve();
      },
      { once: true },
    );
    audio.src = url;
    audio.load();
  });
}

// Stream URLs expire (minutes after the chapter's length): a new one is fetched ahead of
// time and swapped in at the same position, playing or not.
function renewSchedule(lifetime) {
  clearTimeout(renewTimer);
  const wait = Math.max(5_000, lifetime - Math.min(RENEW_BEFORE_MS, lifetime / 2));
  renewTimer = setTimeout(guard(streamRenew), wait);
}

async function streamRenew() {
  if (!stream || !current.chapter) return;
  try {
    await streamLoad(audio.currentTime, !audio.paused);
  } catch (error) {
    renewTimer = setTimeout(guard(streamRenew), RETRY_MS);
    throw error;
  }
}

function playerStop() {
  clearTimeout(renewTimer);
  clearInterval(reportTimer);
  stream = null;
  current.chapter = null;
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
  $("player").hidden = true;
}

function timeShow() {
  const duration = Number.isFinite(audio.duration) ? audio.duration : 0;
  $("seek").max = String(Math.floor(duration));
  if (!seeking) $("seek").value = String(Math.floor(audio.currentTime));
  $("time").textContent = `${clock(seeking ? $("seek").value : audio.currentTime)} / ${clock(duration)}`;
}

audio.addEventListener("timeupdate", timeShow);
audio.addEventListener("durationchange", timeShow);
audio.addEventListener("play", () => {
  $("play").textContent = "Pause";
  clearInterval(reportTimer);
  reportTimer = setInterval(() => report("playing"), REPORT_EVERY_MS);
});
audio.addEventListener("pause", () => {
  $("play").textContent = "Play";
  clearInterval(reportTimer);
  if (!loading) report("pause");
});
audio.addEventListener("seeked", () => {
  if (!loading) report("seek");
});
audio.addEventListener(
  "ended",
  guard(async () => {
    const next = current.chapters.find((chapter) => chapter.number > current.chapter.number);
    if (next) await chapterPlay(next.id, 0);
  }),
);
audio.addEventListener(
  "error",
  guard(async () => {
    // Most likely an expired URL (a seek after a long pause): renew once, not in a loop.
    if (!stream || Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    await streamRenew();
  }),
);

$("play").addEventListener("click", () => {
  if (audio.paused) audio.play().catch(playRefused);
  else audio.pause();
});
$("back-15").addEventListener("click", () => (audio.currentTime = Math.max(0, audio.currentTime - 15)));
$("forward-30").addEventListener("click", () => {
  audio.currentTime = Math.min(audio.duration || 0, audio.currentTime + 30);
});
$("seek").addEventListener("input", () => {
  seeking = true;
  timeShow();
});
$("seek").addEventListener("change", () => {
  seeking = false;
  audio.currentTime = Number($("seek").value);
});

// --- progress sync -----------------------------------------------------------------------

let pending = {}; // book id -> the newest unsent report, kept across reloads
let retryTimer = null;
let lastSent = null;

const pendingKey = () => `voj-listen-pending-${user?.id}`;
function pendingLoad() {
  try {
    pending = JSON.parse(localStorage.getItem(pendingKey())) || {};
  } catch {
    pending = {};
  }
}
const pendingSave = () => localStorage.setItem(pendingKey(), JSON.stringify(pending));

function syncShow(state, text) {
  $("sync").dataset.state = state;
  $("sync").textContent = text;
}

function report(reason, { keepalive = false } = {}) {
  if (loading || !user || !current.book || !current.chapter || !audio.currentSrc) return;
  let position = audio.ended ? audio.duration : audio.currentTime || 0;
  const duration = current.chapter.duration_seconds;
  if (duration != null) position = Math.min(position, duration);
  position = Math.round(position * 1000) / 1000;
  const same = lastSent && lastSent.chapter === current.chapter.id && lastSent.position === position;
  if (reason === "playing" && same) return;
  pending[current.book.id] = {
    book_id: current.book.id,
    chapter_id: current.chapter.id,
    position_seconds: position,
    updated_at: new Date().toISOString(),
    device,
  };
  pendingSave();
  flush({ keepalive }).catch(() => {});
}

// One upload at a time, so that answers arrive in the order the reports were made; a report
// made meanwhile goes in the next one. Only the report sent as the page is left goes at once.
let flushing = null;
let flushAgain = false;

function flush({ keepalive = false } = {}) {
  if (keepalive) return upload(true);
  if (flushing) {
    flushAgain = true;
    return flushing;
  }
  flushing = (async () => {
    do {
      flushAgain = false;
      await upload(false);
    } while (flushAgain);
  })().finally(() => {
    flushing = null;
  });
  return flushing;
}

async function upload(keepalive) {
  const items = Object.values(pending);
  if (!items.length || !user) return;
  syncShow("saving", "Saving…");
  clearTimeout(retryTimer);
  let results;
  try {
    const body = { items };
    const answer = await apiJson("me/progress/batch", { method: "POST", body, keepalive });
    results = answer.results;
  } catch (error) {
    if (error instanceof SignedOut) throw error;
    const offline = error instanceof TypeError || error.status >= 500;
    syncShow(offline ? "offline" : "error", offline ? "Offline — will retry" : `Not saved: ${error.message}`);
    if (offline) retryTimer = setTimeout(() => flush().catch(() => {}), RETRY_MS);
    return;
  }
  items.forEach((item, index) => {
    if (pending[item.book_id] === item) delete pending[item.book_id]; // none newer came meanwhile
    const result = results[index];
    if (result.error) return syncShow("error", `Not saved: ${result.error.detail}`);
    if (item.book_id !== current.book?.id) return;
    lastSent = { chapter: item.chapter_id, position: item.position_seconds };
    syncShow("saved", `Saved ${clock(item.position_seconds)}`);
    if (!result.applied) newerElsewhere(result.latest);
  });
  pendingSave();
}

// Another device reported a newer position: say so rather than jump (docs/listening.md).
function newerElsewhere(latest) {
  if (!chapterById(latest.chapter_id)) return;
  $("other-device-text").textContent = `Newer on ${latest.device || "another device"}: ${positionLabel(latest)}`;
  $("other-device-go").onclick = guard(() => chapterPlay(latest.chapter_id, latest.position_seconds));
  $("other-device").hidden = false;
}

function leave() {
  if (current.chapter) report("leave", { keepalive: true });
}
addEventListener("pagehide", leave);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "hidden") leave();
});
addEventListener("online", () => flush().catch(() => {}));

// --- bookmarks -----------------------------------------------------------------------------

async function bookmarksLoad() {
  const page = await apiJson(`me/bookmarks?book_id=${current.book.id}&limit=100`);
  $("bookmarks").replaceChildren(
    ...page.results.map((bookmark) => {
      const where = positionLabel(bookmark);
      const jump = el("button", { type: "button" }, bookmark.note ? `${where} — ${bookmark.note}` : where);
      jump.addEventListener("click", guard(() => chapterPlay(bookmark.chapter_id, bookmark.position_seconds)));
      const remove = el("button", { type: "button", ariaLabel: `Delete bookmark at ${where}` }, "Delete");
      remove.addEventListener(
        "click",
        guard(async () => {
          await apiJson(`me/bookmarks/${bookmark.id}`, { method: "DELETE" });
          await bookmarksLoad();
        }),
      );
      return el("li", {}, jump, remove);
    }),
  );
}

$("bookmark-form").addEventListener(
  "submit",
  guard(async (event) => {
    event.preventDefault();
    if (!current.chapter) return;
    const body = {
      book_id: current.book.id,
      chapter_id: current.chapter.id,
      position_seconds: Math.round(audio.currentTime * 1000) / 1000,
      note: $("bookmark-note").value.trim(),
    };
    await apiJson("me/bookmarks", { method: "POST", body });
    $("bookmark-note").value = "";
    await bookmarksLoad();
  }),
);

// --- wiring --------------------------------------------------------------------------------

$("sign-in-form").addEventListener(
  "submit",
  guard(async (event) => {
    event.preventDefault();
    $("sign-in-error").textContent = "";
    const response = await sessionPost("", { username: $("username").value, password: $("password").value });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      $("sign-in-error").textContent = body.detail || `Sign-in failed (HTTP ${response.status}).`;
      return;
    }
    accessSet(body.access);
    await signedIn(body.user);
  }),
);

$("sign-out").addEventListener(
  "click",
  guard(async () => {
    leave();
    await sessionPost("/end");
    localStorage.removeItem(pendingKey());
    location.hash = "";
    showSignIn();
  }),
);

$("search-form").addEventListener(
  "submit",
  guard(async (event) => {
    event.preventDefault();
    query = $("search").value.trim().slice(0, 100);
    $("search-clear").hidden = !query;
    await booksLoad();
  }),
);
$("search-clear").addEventListener(
  "click",
  guard(async () => {
    query = "";
    $("search").value = "";
    $("search-clear").hidden = true;
    await booksLoad();
    $("search").focus();
  }),
);
$("books-more").addEventListener("click", guard(() => booksLoad(true)));
$("back").addEventListener("click", () => (location.hash = ""));
addEventListener("hashchange", guard(() => (user ? route() : undefined)));

// A reload signs the listener back in from the session cookie, when there is one.
guard(async () => {
  try {
    await refresh();
  } catch (error) {
    return showSignIn(error instanceof SignedOut ? "" : "The server could not be reached.");
  }
  await signedIn(await apiJson("auth/me"));
})();
