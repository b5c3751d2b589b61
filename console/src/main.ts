/**
 * The opsync ops console: staff sign in with Firebase Auth (the Auth emulator on localhost) and every screen reads
 * the admin API. Screens (hash routes, one click each from the header): Health, Needs action, Queues, Customer.
 */
import { initializeApp, type FirebaseOptions } from "firebase/app";
import {
  browserLocalPersistence,
  connectAuthEmulator,
  initializeAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
  type User,
} from "firebase/auth";
import { useToken } from "./api";
import { h, replace } from "./dom";
import { renderAction } from "./screens/action";
import { renderCustomer } from "./screens/customer";
import { renderHealth } from "./screens/health";
import { renderQueues } from "./screens/queues";
import type { Session } from "./screens/session";

const LOCAL = ["localhost", "127.0.0.1"].includes(location.hostname);

/** Locally the demo project and the Auth emulator; deployed, Hosting's own /__/firebase/init.json. */
async function firebaseOptions(): Promise<FirebaseOptions> {
  if (LOCAL) return { apiKey: "demo-key", projectId: "demo-opsync", authDomain: location.host };
  const res = await fetch("/__/firebase/init.json");
  return (await res.json()) as FirebaseOptions;
}

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;

const SCREENS: Record<string, (root: HTMLElement, session: Session, params: URLSearchParams) => Promise<void>> = {
  health: renderHealth,
  action: renderAction,
  queues: renderQueues,
  customer: renderCustomer,
};

async function route(session: Session): Promise<void> {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  const screen = path && SCREENS[path] ? path : "health";
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.screen === screen);
  const root = h("div", { id: `screen-${screen}` }, h("p", { class: "muted" }, "Loading…"));
  replace(main, root);
  await SCREENS[screen]?.(root, session, new URLSearchParams(query ?? ""));
}

function signInForm(auth: ReturnType<typeof initializeAuth>): HTMLElement {
  const email = h("input", { type: "email", name: "email", placeholder: "email", required: true, autocomplete: "username" }) as HTMLInputElement;
  const password = h("input", { type: "password", name: "password", placeholder: "password", required: true, autocomplete: "current-password" }) as HTMLInputElement;
  const problem = h("div");
  const form = h(
    "form",
    {
      class: "signin",
      onsubmit: (e: Event) => {
        e.preventDefault();
        signInWithEmailAndPassword(auth, email.value, password.value).catch((error: unknown) => {
          replace(problem, h("div", { class: "error" }, `Sign-in failed: ${error instanceof Error ? error.message : String(error)}`));
        });
      },
    },
    h("h2", {}, "Staff sign-in"),
    email,
    password,
    h("button", { class: "primary", type: "submit" }, "Sign in"),
    problem,
  );
  return form;
}

async function start(): Promise<void> {
  const app = initializeApp(await firebaseOptions());
  const auth = initializeAuth(app, { persistence: browserLocalPersistence });
  if (LOCAL) connectAuthEmulator(auth, `http://${location.hostname}:9099`, { disableWarnings: true });
  let session: Session | null = null;
  const onHash = () => {
    if (session) void route(session);
  };
  window.addEventListener("hashchange", onHash);
  onAuthStateChanged(auth, (user: User | null) => {
    if (!user) {
      session = null;
      nav.hidden = true;
      replace(who);
      replace(main, signInForm(auth));
      return;
    }
    void user.getIdTokenResult().then((result) => {
      const roles = (["admin", "support", "finance"] as const).filter((r) => result.claims[r] === true);
      useToken(() => user.getIdToken());
      session = { uid: user.uid, email: user.email, roles };
      nav.hidden = false;
      replace(who, `${user.email ?? user.uid} · ${roles.join(", ") || "no staff role"}`, h("button", { onclick: () => void signOut(auth) }, "Sign out"));
      void route(session);
    });
  });
}

void start();
